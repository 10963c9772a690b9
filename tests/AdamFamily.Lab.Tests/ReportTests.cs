using System.Globalization;
using System.Text.RegularExpressions;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;

namespace AdamFamily.Lab.Tests;

[Collection(TorchRngCollection.Name)]
public class ReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-report-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ComparisonSummary Stored()
    {
        var s = ComparisonTests.Tiny with { Arms = ComparisonTests.Tiny.Arms.Append(new ArmSpec("sgd", "sgd:lr=0.05,momentum=0.9")).ToArray() };
        return ComparisonRunner.Run(s, _dir);
    }

    [Fact]
    public void Report_HasEveryPlotAndTable_AndTheTableEqualsTheSummaryJson()
    {
        Stored();
        var path = ComparisonReport.Write(_dir);
        var html = File.ReadAllText(path);
        var summary = ComparisonSummary.FromJson(File.ReadAllText(Path.Combine(_dir, "summary.json")));

        foreach (var (file, _) in ComparisonReport.PlotFiles)
        {
            Assert.Matches($"<figure id=\"plot-{file}\"><img [^>]*src=\"data:image/png;base64,[A-Za-z0-9+/]{{200,}}", html);
            Assert.True(new FileInfo(Path.Combine(_dir, "plots", file + ".png")).Length > 1000, file + ".png");
            Assert.True(new FileInfo(Path.Combine(_dir, "plots", file + ".svg")).Length > 1000, file + ".svg");
        }

        var table = Regex.Match(html, "<table id=\"verdict\">.*?<tbody>(.*?)</tbody>", RegexOptions.Singleline).Groups[1].Value;
        var rows = Regex.Matches(table, "<tr>(.*?)</tr>", RegexOptions.Singleline).Select(m => Regex.Matches(m.Groups[1].Value, "<td[^>]*>(.*?)</td>").Select(c => System.Net.WebUtility.HtmlDecode(c.Groups[1].Value)).ToArray()).ToArray();
        Assert.Equal(summary.Arms.Count, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var a = summary.Arms[i];
            Assert.Equal(a.Arm, rows[i][0]);
            var final = rows[i][2].Split(" ± ");
            Assert.Equal(Math.Round(a.FinalMean, 2), double.Parse(final[0], CultureInfo.InvariantCulture));
            Assert.Equal(Math.Round(a.FinalStd, 2), double.Parse(final[1], CultureInfo.InvariantCulture));
            Assert.Equal($"{a.Divergences}/{a.Runs}", rows[i][4]);
            var v = summary.Versus.FirstOrDefault(x => x.Arm == a.Arm);
            if (v is null) { Assert.Equal("baseline", rows[i][VerdictTable.VerdictColumn]); continue; }
            var ci = Regex.Match(rows[i][7], @"^([-+]?[\d.]+) \[([-+]?[\d.]+), ([-+]?[\d.]+)\] ([\d.]+)%$");
            Assert.True(ci.Success, rows[i][7]);
            Assert.Equal(Math.Round(v.MeanDifference, 2), double.Parse(ci.Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.Equal(Math.Round(v.CiLow, 2), double.Parse(ci.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(Math.Round(v.CiHigh, 2), double.Parse(ci.Groups[3].Value, CultureInfo.InvariantCulture));
            Assert.Equal(Math.Round(v.CiConfidence * 100, 2), double.Parse(ci.Groups[4].Value, CultureInfo.InvariantCulture));
            Assert.Equal(v.Verdict, rows[i][VerdictTable.VerdictColumn]);
            Assert.Equal(v.NonInferiorText, rows[i][VerdictTable.NonInferiorColumn]);
            Assert.Equal(v.Pairs.ToString(CultureInfo.InvariantCulture), rows[i][6]);
        }

        Assert.Contains("TorchSharp", html);                         // software versions
        Assert.Contains("&quot;epochs&quot;: 2", html);              // the exact settings
        var md = File.ReadAllText(Path.Combine(_dir, "summary.md"));
        Assert.Contains("Holm–Bonferroni", md);
        Assert.Contains("Holm–Bonferroni", html);
        foreach (var row in VerdictTable.Rows(summary)) Assert.Contains("| " + string.Join(" | ", row) + " |", md);
    }

    [Fact]
    public void Report_RefusesAFolderThatIsNotAComparison_OrUnfinished()
    {
        Assert.Throws<FileNotFoundException>(() => ComparisonReport.Write(_dir));
        Stored();
        File.Delete(new ResultStore(_dir).RunPath("adamw", 1));
        var e = Assert.Throws<InvalidDataException>(() => ComparisonReport.Write(_dir));
        Assert.Contains("adamw seed 1", e.Message);
    }

    [Fact]
    public void TensorBoardExport_WritesAnEventFilePerRun()
    {
        Stored();
        var root = TensorBoardExport.Write(_dir);
        var runDirs = Directory.GetDirectories(root);
        Assert.Equal(3 * 3, runDirs.Length);
        Assert.All(runDirs, d => Assert.Contains(Directory.GetFiles(d), f => Path.GetFileName(f).StartsWith("events.out.tfevents") && new FileInfo(f).Length > 0));
    }
}

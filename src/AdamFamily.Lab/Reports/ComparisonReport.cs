using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Statistics;
using AdamFamily.Lab.Training;
using ScottPlot;

namespace AdamFamily.Lab.Reports;

/// <summary>
/// Renders a comparison folder into report.html (self-contained: plots inlined), summary.md (the verdict
/// table for pasting into a ticket) and plots/*.png|svg. Reads only the folder's files, so
/// <c>afm report DIR</c> re-renders any time.
/// </summary>
public static class ComparisonReport
{
    /// <summary>The plots every report has, by file name (without extension) and caption.</summary>
    public static readonly IReadOnlyList<(string File, string Caption)> PlotFiles = new[]
    {
        ("test_metric", "Test metric per epoch: mean over seeds, band ±1 std"),
        ("train_loss", "Training loss per epoch (log scale), mean ± 1 std"),
        ("valid_metric", "Validation metric per epoch (what the best epoch is selected on; never test), mean ± 1 std"),
        ("final_by_seed", "Final test metric per arm, one dot per seed (a diverged run at the task's worst value)"),
        ("stationarity", "Stationarity measure ‖d + σx‖ at the end of each epoch (log scale)"),
        ("time_per_epoch", "Wall time per epoch and the optimizer's share of it"),
    };

    /// <summary>Loads the folder's settings, runs and summary (recomputing the summary when it is missing).</summary>
    public static (ExperimentSettings Settings, IReadOnlyList<RunResult> Runs, ComparisonSummary Summary) Load(string dir)
    {
        var store = new ResultStore(dir);
        if (!File.Exists(store.SettingsPath))
            throw new FileNotFoundException($"'{store.Dir}' is not a comparison folder (no experiment.json).", store.SettingsPath);
        var settings = ExperimentSettings.FromJson(File.ReadAllText(store.SettingsPath), store.SettingsPath);
        var units = RunPlan.ForComparison(settings, 1);   // results stamped for other settings (an edited experiment.json) are not read as these
        var unitOf = units.Units.ToDictionary(u => (u.Arm.Name, u.Seed));
        var summaryPath = Path.Combine(store.Dir, "summary.json");
        var stored = File.Exists(summaryPath) ? ReadSummary(summaryPath) : null;
        // A partial summary (afm summarize on an unfinished folder) covers the seeds every arm has finished: report those.
        if (stored?.Settings.Seeds is { Length: > 0 } summarised && summarised.All(settings.Seeds.Contains)) settings = settings with { Seeds = summarised };
        var runs = new List<RunResult>();
        var missing = new List<string>();
        foreach (var seed in settings.Seeds)
            foreach (var arm in settings.Arms)
            {
                if (store.TryLoadFor(unitOf[(arm.Name, seed)], units.SettingsHash) is { } r) runs.Add(r);
                else missing.Add($"{arm.Name} seed {seed}");
            }
        if (missing.Count > 0)
            throw new InvalidDataException($"'{store.Dir}' is unfinished: no result (for its current experiment.json) for {string.Join(", ", missing)}. Rerun the afm compare or afm tune that made it to finish it, or `afm summarize` for what is complete.");
        var summary = stored ?? ComparisonSummary.From(settings, runs);
        return (settings, runs, summary);
    }

    private static ComparisonSummary ReadSummary(string path)
    {
        try
        {
            return ComparisonSummary.FromJson(File.ReadAllText(path)) is { Arms: not null, Versus: not null, Settings: not null } s ? s
                : throw new InvalidDataException($"'{path}': not a summary of afm compare (settings, arms or versus missing). Delete it and run afm report again to recompute it.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"'{path}': corrupt summary ({e.Message}). Delete it and run afm report again to recompute it from the runs.", e);
        }
    }

    /// <summary>Writes plots, report.html and summary.md into the folder; returns the report's path.</summary>
    public static string Write(string dir) => Write(dir, null);

    /// <summary>Writes the report with <paramref name="extras"/> (a tuning study's sections) added; returns the report's path.</summary>
    public static string Write(string dir, ReportExtras? extras)
    {
        var (s, runs, summary) = Load(dir);
        var plotsDir = Path.Combine(dir, "plots");
        Directory.CreateDirectory(plotsDir);
        string metric = s.MetricName;

        var byArm = s.Arms.Select(a => (Arm: a.Name, Runs: runs.Where(r => r.Arm == a.Name).ToList())).ToList();
        Plots.Save(ByEpoch(new LinePlot($"{Cap(metric)} per epoch", "epoch", metric, byArm.Select(a => Band(a.Arm, a.Runs, e => e.TestMetric)).ToList())),
            Path.Combine(plotsDir, "test_metric"));
        Plots.Save(ByEpoch(new LinePlot("Training loss", "epoch", "train loss", byArm.Select(a => Band(a.Arm, a.Runs, e => e.TrainLoss)).ToList(), LogY: true)),
            Path.Combine(plotsDir, "train_loss"));
        var validPlot = Path.Combine(plotsDir, "valid_metric");
        if (runs.Any(r => r.Epochs.Any(e => double.IsFinite(e.ValidMetric))))
            Plots.Save(ByEpoch(new LinePlot($"{s.DeclaredMetric.On("Validation")} per epoch", "epoch", "validation metric", byArm.Select(a => Band(a.Arm, a.Runs, e => e.ValidMetric)).ToList())), validPlot);
        else { File.Delete(validPlot + ".png"); File.Delete(validPlot + ".svg"); }
        Plots.Save(FinalBySeed(s, summary), Path.Combine(plotsDir, "final_by_seed"));
        Plots.Save(ByEpoch(new LinePlot("Stationarity measure ‖d + σx‖", "epoch", "‖d + σx‖", byArm.Select(a => Band(a.Arm, a.Runs, e => e.Stationarity)).ToList(), LogY: true)),
            Path.Combine(plotsDir, "stationarity"));
        Plots.Save(TimePerEpoch(summary), Path.Combine(plotsDir, "time_per_epoch"));

        var md = (extras?.MarkdownBefore ?? "") + Markdown(summary);
        LabFiles.WriteAtomically(Path.Combine(dir, "summary.md"), md);
        var html = Html(s, summary, plotsDir, extras);
        var path = Path.Combine(dir, "report.html");
        LabFiles.WriteAtomically(path, html);
        return path;
    }

    /// <summary>A line plot over epochs, with whole-number epoch ticks.</summary>
    private static Plot ByEpoch(LinePlot spec)
    {
        var plot = Plots.Build(spec);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>Mean over seeds per epoch with a ±1 std band; epochs a run did not reach (divergence) are left out of that epoch's mean.</summary>
    private static PlotSeries Band(string arm, List<RunResult> runs, Func<EpochMetrics, double> value)
    {
        int epochs = runs.Max(r => r.Epochs.Count);
        var x = new double[epochs]; var mean = new double[epochs]; var std = new double[epochs];
        for (int e = 0; e < epochs; e++)
        {
            var vs = runs.Where(r => r.Epochs.Count > e && !r.Epochs[e].Diverged).Select(r => value(r.Epochs[e])).Where(double.IsFinite).ToArray();
            x[e] = e + 1;
            var sm = vs.Length > 0 ? Summary.Of(vs) : new Summary(0, double.NaN, double.NaN, double.NaN, double.NaN);
            mean[e] = sm.Mean;
            std[e] = vs.Length > 1 ? sm.StdDev : 0;   // one run: no band
        }
        return PlotSeries.WithSpread(arm, x, mean, std);
    }

    private static Plot FinalBySeed(ExperimentSettings s, ComparisonSummary summary)
    {
        var plot = new Plot();
        for (int i = 0; i < summary.Arms.Count; i++)
        {
            var a = summary.Arms[i];
            var ys = a.FinalBySeed.Where(double.IsFinite).ToArray(); // diverged runs are at the worst value, as they count
            // Spread the dots a little sideways so equal values stay visible.
            var xs = ys.Select((_, k) => i + (k - (ys.Length - 1) / 2.0) * 0.06).ToArray();
            var sc = plot.Add.ScatterPoints(xs, ys);
            sc.Color = Plots.Palette.GetColor(i);
            sc.MarkerSize = 9;
            if (double.IsFinite(a.FinalMean))
            {
                var m = plot.Add.Line(i - 0.25, a.FinalMean, i + 0.25, a.FinalMean);
                m.Color = Plots.Palette.GetColor(i);
                m.LineWidth = 2;
            }
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, summary.Arms.Count).Select(i => (double)i).ToArray(), summary.Arms.Select(a => a.Arm).ToArray());
        plot.Axes.SetLimitsX(-0.6, summary.Arms.Count - 0.4);
        plot.Title($"Final {s.MetricName} by seed (bar = mean)");
        plot.YLabel(s.MetricName);
        return plot;
    }

    private static Plot TimePerEpoch(ComparisonSummary summary)
    {
        var plot = new Plot();
        for (int i = 0; i < summary.Arms.Count; i++)
        {
            var a = summary.Arms[i];
            var total = plot.Add.Bar(i, a.SecondsPerEpoch);
            total.Color = Plots.Palette.GetColor(i).WithAlpha(0.45);
            var opt = plot.Add.Bar(i, a.SecondsPerEpoch * (double.IsFinite(a.OptimizerShare) ? a.OptimizerShare : 0));
            opt.Color = Plots.Palette.GetColor(i);
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, summary.Arms.Count).Select(i => (double)i).ToArray(), summary.Arms.Select(a => a.Arm).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title("Seconds per epoch (dark: optimizer step)");
        plot.YLabel("seconds");
        return plot;
    }

    private static string Cap(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>The verdict table and its footnote as Markdown (summary.md).</summary>
    public static string Markdown(ComparisonSummary summary) => VerdictTable.Markdown(summary);

    private static string Html(ExperimentSettings s, ComparisonSummary summary, string plotsDir, ReportExtras? extras)
    {
        var sb = new StringBuilder();
        string E(string x) => WebUtility.HtmlEncode(x);
        sb.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + E(s.Protocol) + " — AdamFamily comparison</title>");
        sb.AppendLine("<style>body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222}" +
                      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:nth-child(2),th{text-align:left}" +
                      ".better{color:#1a7f37;font-weight:600}.worse{color:#c62828;font-weight:600}.muted{color:#777}#verdict td:nth-child(10),#verdict td:nth-child(11){text-align:left}td.hp{text-align:left;font-family:monospace;font-size:90%}.note{color:#444;font-size:90%}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}" +
                      "pre{background:#f6f8fa;padding:1em;overflow:auto}figcaption{color:#555}</style></head><body>");
        sb.AppendLine($"<h1>{E(extras?.Title ?? s.Protocol + ": which optimizer gives the better model?")}</h1>");
        if (extras?.IntroHtml is { } intro) sb.AppendLine(intro);
        sb.AppendLine($"<p>Task <b>{E(s.Task)}</b>, model <b>{E(s.Model)}</b>, {s.Epochs} epochs, batch {s.BatchSize}, lr schedule {E(s.Schedule.ToString())}, seeds {E(string.Join(", ", s.Seeds))}. " +
                      $"Metric: final {E(s.MetricName)} ({(s.HigherIsBetter ? "higher" : "lower")} is better); every arm is compared with the baseline <b>{E(s.BaselineArm)}</b> on the same seeds.</p>");
        sb.AppendLine("<h2>Verdict</h2>");
        sb.AppendLine(VerdictHtml(summary));
        if (extras?.SectionsHtml is { } sections) sb.AppendLine(sections);
        sb.AppendLine("<h2>Plots</h2>");
        foreach (var (file, caption) in (extras?.PlotFiles ?? Array.Empty<(string, string)>()).Concat(PlotFiles))
        {
            var png = Path.Combine(plotsDir, file + ".png");
            if (!File.Exists(png)) continue; // e.g. no validation split
            sb.AppendLine($"<figure id=\"plot-{file}\"><img alt=\"{E(caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(png))}\"><figcaption>{E(caption)} (also plots/{file}.png and .svg)</figcaption></figure>");
        }
        sb.AppendLine("<h2>Settings (experiment.json)</h2><pre>" + E(s.ToJson()) + "</pre>");
        sb.AppendLine("<h2>Software</h2><table id=\"software\">");
        foreach (var (k, v) in Versions()) sb.AppendLine($"<tr><td>{E(k)}</td><td>{E(v)}</td></tr>");
        sb.AppendLine("</table>");
        sb.AppendLine(extras?.ReproduceHtml ?? "<p>Reproduce: <code>afm compare --experiment experiment.json --out DIR</code>; re-render: <code>afm report DIR</code>.</p>");
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    /// <summary>The verdict table with its footnote as HTML (verdict and non-inferiority cells coloured).</summary>
    public static string VerdictHtml(ComparisonSummary summary)
    {
        string E(string x) => WebUtility.HtmlEncode(x);
        var sb = new StringBuilder();
        sb.AppendLine("<table id=\"verdict\"><thead><tr>" + string.Concat(VerdictTable.Header(summary).Select(h => $"<th>{E(h)}</th>")) + "</tr></thead><tbody>");
        foreach (var r in VerdictTable.Rows(summary))
        {
            sb.Append("<tr>");
            for (int i = 0; i < r.Length; i++)
            {
                string cls = VerdictTable.ToneOf(i, r[i]) switch { CellTone.Good => "better", CellTone.Bad => "worse", CellTone.Muted => "muted", _ => i == 1 ? "hp" : "" };
                sb.Append(cls == "" ? $"<td>{E(r[i])}</td>" : $"<td class=\"{cls}\">{E(r[i])}</td>");
            }
            sb.AppendLine("</tr>");
        }
        sb.AppendLine("</tbody></table>");
        sb.AppendLine($"<p class=\"note\">{E(VerdictTable.Footnote(summary))}</p>");
        return sb.ToString();
    }

    /// <summary>The software a reader needs to reproduce the numbers.</summary>
    public static IReadOnlyList<(string, string)> Versions() => new[]
    {
        ("AdamFamily", typeof(Optimizers).Assembly.GetName().Version?.ToString() ?? "?"),
        ("TorchSharp", typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?"),
        (".NET", RuntimeInformation.FrameworkDescription),
        ("OS", RuntimeInformation.OSDescription),
        ("CPU cores", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
        ("rendered", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)),
    };
}

/// <summary>What a report built on a comparison folder adds (a tuning study's page): title, sections, plots, Markdown.</summary>
public sealed record ReportExtras
{
    public string? Title { get; init; }
    /// <summary>HTML after the title.</summary>
    public string? IntroHtml { get; init; }
    /// <summary>HTML after the verdict table.</summary>
    public string? SectionsHtml { get; init; }
    /// <summary>Plots (under plots/, already written) shown before the comparison's own.</summary>
    public IReadOnlyList<(string File, string Caption)>? PlotFiles { get; init; }
    /// <summary>Markdown put before the verdict table in summary.md.</summary>
    public string? MarkdownBefore { get; init; }
    public string? ReproduceHtml { get; init; }
}

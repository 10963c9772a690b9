using System.Diagnostics;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests;

/// <summary>afm compare through the real command line, on the synthetic task, tiny.</summary>
[Collection(TorchRngCollection.Name)]
public class CliEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-cli-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("AFM_TEST_PROCESS_TIMEOUT_S"), out var s) && s > 0 ? s : 600);

    internal static (int Code, string Output) Afm(params string[] args)
    {
        var (code, stdout, stderr) = Run(null, args);
        return (code, stdout + stderr);
    }

    /// <summary>Runs afm.dll with extra environment variables; stdout and stderr apart (where an error is printed can be checked).</summary>
    internal static (int Code, string Out, string Err) Run(IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "afm.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // A guard against a hung process, not a speed requirement: generous, because CI's 2 cores are shared
        // with other test processes (AFM_TEST_PROCESS_TIMEOUT_S overrides it).
        if (!p.WaitForExit(ProcessTimeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"afm {string.Join(' ', args)} did not finish in {ProcessTimeout.TotalSeconds:F0} s; its output so far:\n{stdout.Result}{stderr.Result}");
        }
        p.WaitForExit(); // drains the redirected streams
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Compare_OnTheSyntheticTask_PrintsTheVerdictTable_AndWritesItsFiles()
    {
        var (code, output) = Afm("compare", "--task", "synthetic", "--arm", "adam:lr=1e-3", "--arm", "adamd:lr=1e-3,weight_decay=5e-4",
            "--seeds", "2", "--epochs", "1", "--train-subset", "256", "--test-subset", "128", "--batch-size", "64", "--out", _dir);
        Assert.True(code == 0, output);
        Assert.Contains("Δ vs adam", output);
        Assert.Contains("baseline", output);
        Assert.Contains("inconclusive", output); // 2 seeds: the exact test's smallest p is 0.5
        Assert.Equal("inconclusive: 2 seeds cannot reach p < 0.05", ComparisonSummary.FromJson(File.ReadAllText(Path.Combine(_dir, "summary.json"))).Versus.Single().Verdict);
        Assert.Contains("Holm–Bonferroni", output);
        foreach (var f in new[] { "experiment.json", "summary.json", "summary.csv", "runs/adam-seed0.jsonl", "runs/adamd-seed1.jsonl" })
            Assert.True(File.Exists(Path.Combine(_dir, f)), f);

        // A second call with the same settings reuses every run.
        var again = Afm("compare", "--task", "synthetic", "--arm", "adam:lr=1e-3", "--arm", "adamd:lr=1e-3,weight_decay=5e-4",
            "--seeds", "2", "--epochs", "1", "--train-subset", "256", "--test-subset", "128", "--batch-size", "64", "--out", _dir);
        Assert.Equal(0, again.Code);
        Assert.Contains("reused", again.Output);

        // Other settings in the same folder are refused.
        var other = Afm("compare", "--task", "synthetic", "--arm", "adam:lr=1e-3", "--seeds", "2", "--epochs", "2", "--out", _dir);
        Assert.Equal(2, other.Code);
        Assert.Contains("other settings", other.Output);
    }

    [Fact]
    public void Compare_WithABadArm_SaysWhatIsWrong()
    {
        var (code, output) = Afm("compare", "--task", "synthetic", "--arm", "adamd:lr=fast", "--out", _dir);
        Assert.Equal(2, code);
        Assert.Contains("lr", output);
        Assert.Contains("fast", output);
    }

    [Fact]
    public void Tune_OnTheSyntheticTask_WritesTuneJsonSummaryAndReport()
    {
        var (code, output) = Afm("tune", "--task", "synthetic", "--arm", "adam", "--arm", "adamd", "--trials", "2", "--seeds", "2", "--epochs", "1",
            "--train-subset", "256", "--test-subset", "128", "--validation", "128", "--space", "adamd:lr=1e-4..1e-2", "--out", _dir);
        Assert.True(code == 0, output);
        Assert.Contains("selected on validation", output);
        foreach (var f in new[] { "tune.json", "summary.json", "report.html", "summary.md" }) Assert.True(File.Exists(Path.Combine(_dir, f)), f);
        var tune = System.Text.Json.JsonSerializer.Deserialize<AdamFamily.Lab.Tuning.TuneResult>(File.ReadAllText(Path.Combine(_dir, "tune.json")), AdamFamily.Lab.LabFiles.Json)!;
        Assert.Equal(2, tune.Arms.Single(a => a.Arm == "adamd").Trials.Count);
        Assert.Equal(1e-4, tune.Arms.Single(a => a.Arm == "adamd").Space.Dimensions.Single(d => d.Key == "lr").Low);

        var bad = Afm("tune", "--task", "synthetic", "--arm", "adam", "--space", "sgd:lr=1..2", "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("'sgd' is not one of the arms", bad.Output);
        var big = Afm("tune", "--task", "synthetic", "--arm", "adam", "--validation", "5000", "--out", Path.Combine(_dir, "y"));
        Assert.Equal(2, big.Code);
        Assert.Contains("--validation 5000", big.Output);
    }

    [Fact]
    public void List_ShowsEveryPreset()
    {
        var (code, output) = Afm("list");
        Assert.Equal(0, code);
        foreach (var p in Presets.All) Assert.Contains(p.Name, output);
    }
}

/// <summary>afm parity through the real command line: the repository's golden files pass, a tampered one fails, a broken one is an error.</summary>
public class ParityCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-parity-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Golden(string file)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdamFamily.sln"))) dir = dir.Parent;
        var path = Path.Combine(dir!.FullName, "tests", "golden", file);
        Assert.True(File.Exists(path), $"golden file {path} is missing (tests/golden in the repository)");
        return path;
    }

    [Fact]
    public void GoldenFiles_Pass_TamperedFails_BrokenIsAnError()
    {
        var (code, output) = CliEndToEndTests.Afm("parity", Golden("afmdw_reference.json"));
        Assert.True(code == 0, output);
        Assert.Contains("parity: 22 passed, 0 failed", output);

        // One trajectory value moved by 1e-6 relative in a float64 case: far outside rtol 1e-10.
        var doc = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Golden("afmdw_reference.json")))!;
        var firstCase = doc["cases"]![0]!;
        var v = firstCase["trajectory"]![3]![0]![0]!.GetValue<double>();
        firstCase["trajectory"]![3]![0]![0] = v * (1 + 1e-6);
        var tampered = Path.Combine(_dir, "tampered.json");
        File.WriteAllText(tampered, doc.ToJsonString());
        (code, output) = CliEndToEndTests.Afm("parity", tampered);
        Assert.Equal(1, code);
        Assert.Contains("21 passed, 1 failed", output);

        var broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{\"cases\": [ {\"name\": \"x\"");
        (code, output) = CliEndToEndTests.Afm("parity", broken);
        Assert.Equal(2, code);
        Assert.Contains("broken.json", output);
    }
}

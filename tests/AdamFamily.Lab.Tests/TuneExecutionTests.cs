using System.Text.Json.Nodes;

namespace AdamFamily.Lab.Tests;

/// <summary>afm tune through the real command line on the executors: its trials and final runs are units like compare's.</summary>
public class TuneExecutionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-tune-exec-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    /// <summary>The smallest study: synthetic task, 2 arms × 2 trials, then 2 final seeds, 1 epoch each, 1 thread per run.</summary>
    internal static readonly string[] Tiny = { "tune", "--task", "synthetic", "--arm", "adam", "--arm", "adamd", "--trials", "2", "--seeds", "2", "--epochs", "1",
        "--train-subset", "256", "--test-subset", "128", "--validation", "128", "--batch-size", "64", "--threads-per-run", "1" };

    internal static string[] Args(string dir, params string[] extra) => Tiny.Concat(new[] { "--out", dir }).Concat(extra).ToArray();

    /// <summary>summary.json without its wall-clock fields (seconds per epoch, optimizer share), which no two runs share.</summary>
    internal static string Numbers(string dir)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        foreach (var arm in node["arms"]!.AsArray()) { arm!.AsObject().Remove("seconds_per_epoch"); arm.AsObject().Remove("optimizer_share"); }
        return node.ToJsonString();
    }

    /// <summary>tune.json: every trial's point and validation score, each study's best and the selection (no wall-clock field).</summary>
    internal static string Selection(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tune.json")))!.ToJsonString();

    [Fact]
    public void Tune_InProcessAndLocalWorkers_SelectTheSame_AndAResumeReusesTheTrials()
    {
        var inprocess = Path.Combine(_dir, "inprocess");
        var (code, output) = CliEndToEndTests.Afm(Args(inprocess, "--executor", "inprocess"));
        Assert.True(code == 0, output);
        Assert.Contains("selected on validation", output);

        // Local workers, where the worker of trial unit 1 (adamd, trial s0-t0) dies: the other trials are kept, phase 2 does not start.
        var local = Path.Combine(_dir, "local");
        var broken = TestWorkers.CrashingOn(_dir, 1, "simulated crash of unit 1");
        (code, output) = CliEndToEndTests.Afm(Args(local, "--executor", "local", "--workers", "2", "--retries", "0", "--afm", broken));
        Assert.True(code == 4, output);   // some units failed: ExitCodes.UnitsFailed
        Assert.Contains("unit 1 (adamd, trial s0-t0, seed 100000)", output);
        Assert.Contains("simulated crash of unit 1", output);
        var kept = new[] { "adam-s0-t0.jsonl", "adam-s0-t1.jsonl", "adamd-s0-t1.jsonl" }.ToDictionary(f => f, f => File.GetLastWriteTimeUtc(Path.Combine(local, "trials", f)));
        Assert.False(File.Exists(Path.Combine(local, "trials", "adamd-s0-t0.jsonl")));
        Assert.False(File.Exists(Path.Combine(local, "experiment.json")));
        (code, output) = CliEndToEndTests.Afm("status", local);
        Assert.True(code == 0, output);
        Assert.Contains("3 done, 1 missing", output);
        Assert.Contains("phase 2, final runs: not started", output);
        (code, output) = CliEndToEndTests.Afm("summarize", local);
        Assert.Equal(1, code);
        Assert.Contains("still in phase 1", output);

        // The same command, with a working afm: only the missing trial runs, then the final runs.
        (code, output) = CliEndToEndTests.Afm(Args(local, "--executor", "local", "--workers", "2"));
        Assert.True(code == 0, output);
        Assert.Equal(3, output.Split('\n').Count(l => l.Contains("trial s0-t") && l.Contains("reused from an earlier call")));
        foreach (var (f, t) in kept) Assert.Equal(t, File.GetLastWriteTimeUtc(Path.Combine(local, "trials", f)));
        Assert.True(File.Exists(Path.Combine(local, "trials", "logs", "unit-1.log"))); // the trials ran in worker processes
        Assert.True(File.Exists(Path.Combine(local, "logs", "unit-3.log")));           // and so did the final runs

        Assert.Equal(Selection(inprocess), Selection(local));
        Assert.Equal(Numbers(inprocess), Numbers(local));

        (code, output) = CliEndToEndTests.Afm("status", local);
        Assert.True(code == 0, output);
        Assert.Equal(2, output.Split('\n').Count(l => l.Trim() == "4 done"));
        Assert.Contains("complete:", output);
        (code, output) = CliEndToEndTests.Afm("summarize", local);
        Assert.True(code == 0, output);
        Assert.Equal(Numbers(inprocess), Numbers(local));
    }
}

using System.Text.Json.Nodes;
using AdamFamily.Lab.Execution;

namespace AdamFamily.Lab.Tests;

/// <summary>
/// Runs only where a Slurm cluster answers (scripts/slurm-local.sh start; test.sh does it as root). Under CI=true it always
/// runs, so a missing cluster fails the build instead of skipping.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("CI") == "true") return;
        var (ok, why) = SlurmCli.Check();
        if (!ok) Skip = $"no Slurm cluster here ({why}) — as root: scripts/slurm-local.sh start, then export the SLURM_CONF it prints. Under CI=true this test runs and fails instead.";
    }
}

/// <summary>afm compare and afm tune --executor slurm against a real single-node Slurm: same numbers as the local executor, failures, double submission, no sbatch.</summary>
public class SlurmIntegrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-slurm-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private static readonly string[] Tiny = { "compare", "--task", "synthetic", "--arm", "adam:lr=1e-3", "--arm", "adamd:lr=1e-3,weight_decay=5e-4",
        "--seeds", "2", "--epochs", "1", "--train-subset", "256", "--test-subset", "128", "--batch-size", "64" };

    private static (int Code, string Output) Afm(IDictionary<string, string>? env, params string[] args)
    {
        var all = new Dictionary<string, string>(env ?? new Dictionary<string, string>()) { ["AFM_SLURM_POLL_SECONDS"] = "0.5" };
        var (code, stdout, stderr) = CliEndToEndTests.Run(all, args);
        return (code, stdout + stderr);
    }

    private static (int, string) Compare(string dir, params string[] extra) => Afm(null, Tiny.Concat(new[] { "--out", dir }).Concat(extra).ToArray());

    /// <summary>summary.json without the wall-clock fields (seconds per epoch, optimizer share), which no two runs share.</summary>
    private static string Numbers(string dir)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        foreach (var arm in node["arms"]!.AsArray()) { arm!.AsObject().Remove("seconds_per_epoch"); arm.AsObject().Remove("optimizer_share"); }
        return node.ToJsonString();
    }

    [SlurmFact]
    public void SlurmAndLocal_GiveTheSameSummary_AndStatusSeesEveryUnitDone()
    {
        var (ok, why) = SlurmCli.Check();
        Assert.True(ok, $"CI=true requires a running Slurm cluster (test.sh starts one as root with scripts/slurm-local.sh): {why}");

        var slurm = Path.Combine(_dir, "slurm");
        var (code, output) = Compare(slurm, "--executor", "slurm", "--slurm-concurrency", "2");
        Assert.True(code == 0, output);
        Assert.Contains("submitted Slurm job", output);
        Assert.Contains("Δ vs adam", output);
        var script = File.ReadAllText(Path.Combine(slurm, "slurm", "array.sbatch"));
        Assert.Contains("#SBATCH --array=0-3%2", script);
        Assert.Contains("#SBATCH --cpus-per-task=1", script);

        var local = Path.Combine(_dir, "local");
        (code, output) = Compare(local, "--executor", "local", "--workers", "2");
        Assert.True(code == 0, output);
        Assert.Equal(Numbers(local), Numbers(slurm));
        // Every epoch of every run, bit for bit (all but wall-clock time).
        var settings = new Lab.Experiments.ResultStore(slurm).LoadSettings();
        Assert.Equal(ExecutionTests.Metrics(local, settings), ExecutionTests.Metrics(slurm, settings));

        (code, output) = Afm(null, "status", slurm);
        Assert.True(code == 0, output);
        Assert.Contains("4 done", output);
        Assert.DoesNotContain("failed", output);
    }

    [SlurmFact]
    public void Tune_OnSlurm_SubmitsTheTrialsThenTheFinalRuns_AndMatchesTheLocalExecutor()
    {
        Assert.True(SlurmCli.Check().Ok, "CI=true requires a running Slurm cluster");
        var slurm = Path.Combine(_dir, "tune-slurm");
        // --no-wait: phase 1 is submitted and afm returns; the final runs need the trials' selection.
        var (code, output) = Afm(null, TuneExecutionTests.Args(slurm, "--executor", "slurm", "--no-wait"));
        Assert.True(code == 0, output);
        Assert.Contains("phase 1, 4 trial(s)", output);
        Assert.Contains("rerun this same command", output);
        var job = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        Assert.Matches("^[0-9]+$", job);
        Assert.Contains("#SBATCH --array=0-3", File.ReadAllText(Path.Combine(slurm, "trials", "slurm", "array.sbatch")));
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (SlurmCli.QueuedTasks(job).Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(500);
        Assert.Empty(SlurmCli.QueuedTasks(job));
        Assert.False(File.Exists(Path.Combine(slurm, "experiment.json")));

        // The same command (waiting this time): every trial is reused, phase 2 is one more array, then the summary.
        (code, output) = Afm(null, TuneExecutionTests.Args(slurm, "--executor", "slurm"));
        Assert.True(code == 0, output);
        Assert.Contains("selected on validation", output);
        Assert.Contains("submitted Slurm job", output);
        Assert.Equal(4, output.Split('\n').Count(l => l.Contains("trial s0-t") && l.Contains("reused from an earlier call")));
        Assert.Contains("#SBATCH --array=0-3", File.ReadAllText(Path.Combine(slurm, "slurm", "array.sbatch")));

        var local = Path.Combine(_dir, "tune-local");
        (code, output) = Afm(null, TuneExecutionTests.Args(local, "--executor", "local", "--workers", "2"));
        Assert.True(code == 0, output);
        Assert.Equal(TuneExecutionTests.Selection(local), TuneExecutionTests.Selection(slurm));
        Assert.Equal(TuneExecutionTests.Numbers(local), TuneExecutionTests.Numbers(slurm));

        (code, output) = Afm(null, "status", slurm);
        Assert.True(code == 0, output);
        Assert.Equal(2, output.Split('\n').Count(l => l.Trim() == "4 done"));
        Assert.DoesNotContain("failed", output);
    }

    [SlurmFact]
    public void AJobFailingOnSomeTasks_KeepsTheOthers_SaysWhy_AndTheRerunCompletesOnlyTheRest()
    {
        Assert.True(SlurmCli.Check().Ok, "CI=true requires a running Slurm cluster");
        var broken = TestWorkers.CrashingOn(_dir, 1, "simulated node failure on unit 1");
        var dir = Path.Combine(_dir, "partial");
        var (code, output) = Compare(dir, "--executor", "slurm", "--afm", broken, "--retries", "0");
        Assert.True(code == 4, output);   // some units failed: ExitCodes.UnitsFailed
        Assert.Contains("unit 1 (adamd, seed 0)", output);
        Assert.Contains("simulated node failure on unit 1", output);
        var kept = new[] { "runs/adam-seed0.jsonl", "runs/adam-seed1.jsonl", "runs/adamd-seed1.jsonl" }.ToDictionary(f => f, f => File.GetLastWriteTimeUtc(Path.Combine(dir, f)));
        Assert.False(File.Exists(Path.Combine(dir, "runs", "adamd-seed0.jsonl")));
        Assert.False(File.Exists(Path.Combine(dir, "summary.json")));
        (code, output) = Afm(null, "status", dir);
        Assert.Contains("3 done", output);
        Assert.Contains("1 failed", output);
        (code, output) = Afm(null, "summarize", dir);
        Assert.True(code == 0, output);
        Assert.Contains("partial summary over seeds 1", output);

        (code, output) = Compare(dir, "--executor", "slurm");
        Assert.True(code == 0, output);
        Assert.Contains("1 array task", output);
        foreach (var (f, t) in kept) Assert.Equal(t, File.GetLastWriteTimeUtc(Path.Combine(dir, f)));
        Assert.True(File.Exists(Path.Combine(dir, "summary.json")));
    }

    [SlurmFact]
    public void ASecondSubmission_IsRefusedWhileTheFirstIsQueued_AndAPlanEditedAfterSubmission_RunsNothing()
    {
        Assert.True(SlurmCli.Check().Ok, "CI=true requires a running Slurm cluster");
        var dir = Path.Combine(_dir, "twice");
        var (code, output) = Compare(dir, "--executor", "slurm", "--no-wait", "--slurm-args=--hold --job-name=afm-held");
        Assert.True(code == 0, output);
        var job = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        Assert.Matches("^[0-9]+$", job);
        Assert.Contains("#SBATCH --hold", File.ReadAllText(Path.Combine(dir, "slurm", "array.sbatch")));
        try
        {
            (code, output) = Compare(dir, "--executor", "slurm");
            Assert.Equal(2, code);
            Assert.Contains($"Slurm job {job}", output);
            Assert.Contains("queued or running", output);
            (code, output) = Compare(dir, "--executor", "local");
            Assert.Equal(2, code);
            (code, output) = Afm(null, "status", dir);
            Assert.Contains("4 queued", output);

            // The plan is edited while the job waits: every task refuses to run it, and nothing is written.
            var planPath = Path.Combine(dir, "plan.json");
            File.WriteAllText(planPath, File.ReadAllText(planPath).Replace("\"threads_per_run\": 1", "\"threads_per_run\": 2"));
            Assert.Equal(0, SlurmCli.Run("scontrol", new[] { "release", job }).Code);
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (SlurmCli.QueuedTasks(job).Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(500);
            Assert.Empty(SlurmCli.QueuedTasks(job));
            for (int unit = 0; unit < 4; unit++)
            {
                Assert.Equal("2", File.ReadAllText(SlurmExecutor.ExitPath(dir, unit, job)).Trim());
                Assert.Contains("edited after afm wrote it", File.ReadAllText(SlurmExecutor.LogPath(dir, unit, "err")));
            }
            Assert.Empty(Directory.Exists(Path.Combine(dir, "runs")) ? Directory.GetFiles(Path.Combine(dir, "runs")) : Array.Empty<string>());
            (code, output) = Afm(null, "status", dir);
            Assert.Contains("4 failed", output);

            // The same command rewrites the plan, submits again and finishes.
            (code, output) = Compare(dir, "--executor", "slurm");
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "summary.json")));
        }
        finally { SlurmCli.Run("scancel", new[] { job }); }
    }

    [SlurmFact]
    public void APluginTask_OnSlurm_GivesTheNumbersItGivesInProcess()
    {
        Assert.True(SlurmCli.Check().Ok, "CI=true requires a running Slurm cluster");
        var args = Tasks.PluginTaskTests.Args("RegressionTask", Tasks.PluginTaskTests.Dll, "compare", "--threads-per-run", "1");
        var inproc = Path.Combine(_dir, "plugin-inprocess");
        var (code, output) = Afm(null, [.. args, "--executor", "inprocess", "--out", inproc]);
        Assert.True(code == 0, output);
        var slurm = Path.Combine(_dir, "plugin-slurm");
        (code, output) = Afm(null, [.. args, "--executor", "slurm", "--out", slurm]);
        Assert.True(code == 0, output);
        Assert.Contains("submitted Slurm job", output);
        Assert.Equal(Tasks.PluginTaskTests.Numbers(inproc), Tasks.PluginTaskTests.Numbers(slurm));
    }

    [Fact]
    public void WithoutSbatch_SlurmIsRefusedClearly_BeforeAnythingIsWritten()
    {
        var dir = Path.Combine(_dir, "nosbatch");
        var dotnetDir = Path.GetDirectoryName(Environment.ProcessPath!)!;
        var (code, output) = Afm(new Dictionary<string, string> { ["PATH"] = dotnetDir }, Tiny.Concat(new[] { "--out", dir, "--executor", "slurm" }).ToArray());
        Assert.Equal(2, code);
        Assert.Contains("not on PATH", output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(Directory.Exists(dir));
    }
}

using System.Text.Json.Nodes;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tests.Tasks;

/// <summary>
/// A task of the user's own from a DLL (tests/AdamFamily.TestPlugin) through the real command line: the same numbers on
/// every executor, and every way a plugin can be wrong refused before anything is written (exit 2, the DLL / type /
/// option named).
/// </summary>
[Collection(TorchRngCollection.Name)]
public class PluginTaskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-plugin-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    internal static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "plugins", "AdamFamily.TestPlugin.dll");

    internal static string[] Args(string type, string dll, string command = "compare", params string[] extra) =>
    [
        command, "--task-assembly", dll, "--task-type", "AdamFamily.TestPlugin." + type, .. extra.Contains("--task-option") ? [] : new[] { "--task-option", "rows=128" },
        "--arm", "adam:lr=1e-2", "--arm", "adamd:lr=1e-2,weight_decay=1e-3", "--seeds", "2", "--epochs", "2", "--batch-size", "32", .. extra,
    ];

    private static (int Code, string Output) Afm(params string[] args) => CliEndToEndTests.Afm(args);

    /// <summary>summary.json without the wall-clock fields, which no two runs share.</summary>
    internal static string Numbers(string dir)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        foreach (var arm in node["arms"]!.AsArray()) { arm!.AsObject().Remove("seconds_per_epoch"); arm.AsObject().Remove("optimizer_share"); }
        return node.ToJsonString();
    }

    private static void NothingWritten(string dir) =>
        Assert.True(!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any(), $"{dir} holds {string.Join(", ", Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir) : [])}");

    [Fact]
    public void APluginTask_GivesTheSameNumbers_InProcessAndWithLocalWorkers_AndRecordsTheAssembly()
    {
        var inproc = Path.Combine(_dir, "inprocess");
        var (code, output) = Afm([.. Args("RegressionTask", Dll, "compare", "--executor", "inprocess", "--threads-per-run", "1"), "--out", inproc]);
        Assert.True(code == 0, output);
        Assert.Contains("test RMSE", output);
        Assert.Contains("lower is better", output);
        var local = Path.Combine(_dir, "local");
        (code, output) = Afm([.. Args("RegressionTask", Dll, "compare", "--executor", "local", "--workers", "2", "--threads-per-run", "1"), "--out", local]);
        Assert.True(code == 0, output);
        Assert.Equal(Numbers(inproc), Numbers(local));

        var s = ExperimentSettings.FromJson(File.ReadAllText(Path.Combine(local, "experiment.json")), "experiment.json");
        Assert.Equal(PluginSettings.TaskName, s.Task);
        Assert.Equal(Path.GetFullPath(Dll), s.Plugin!.Assembly.Path);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Dll))).ToLowerInvariant(), s.Plugin.Assembly.Sha256);
        Assert.Equal("128", s.Plugin.Options["rows"]);
        Assert.False(s.HigherIsBetter);
    }

    [Fact]
    public void Tune_TrainsAPluginTask_AndItsFinalRunsAreJudgedByItsMetric()
    {
        var dir = Path.Combine(_dir, "tune");
        var (code, output) = Afm([.. Args("RegressionTask", Dll, "tune", "--trials", "2", "--executor", "inprocess"), "--out", dir]);
        Assert.True(code == 0, output);
        Assert.Contains("RMSE", output);
        Assert.True(File.Exists(Path.Combine(dir, "tune.json")), output);
    }

    [Fact]
    public void AnAssemblyChangedSinceThePlan_IsRefusedOnResumeAndByAWorker_WithoutRunningIt()
    {
        var copy = Path.Combine(_dir, "copy", "AdamFamily.TestPlugin.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(Dll, copy);
        var dir = Path.Combine(_dir, "out");
        var (code, output) = Afm([.. Args("RegressionTask", copy), "--out", dir]);
        Assert.True(code == 0, output);
        File.AppendAllText(copy, "x");   // another build of the DLL
        var before = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);

        (code, output) = Afm([.. Args("RegressionTask", copy), "--out", dir]);
        Assert.True(code == 2, output);
        Assert.Contains("AdamFamily.TestPlugin.dll", output);
        Assert.Contains("changed since the plan was made", output);
        Assert.Equal(before, Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc));

        // A worker handed a unit still to run (its result removed) refuses the changed DLL before loading it.
        var run = Directory.GetFiles(Path.Combine(dir, "runs"), "adam-seed0.jsonl").Single();
        File.Delete(run);
        (code, output) = Afm("worker", "--plan", Path.Combine(dir, "plan.json"), "--unit", "0");
        Assert.True(code == 2, output);
        Assert.Contains("task assembly", output);
        Assert.Contains("changed since the plan was made", output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(File.Exists(run));
    }

    public static TheoryData<string, string[], string> Refusals => new()
    {
        { "ThrowingTask", [], "the constructor failed: InvalidOperationException: no data source configured" },
        { "UnseededModelTask", [], "different initial weights on a second call" },
        { "NaNLossTask", [], "loss" },
        { "NoWorstTask", [], "must be a finite number" },
        { "HiddenTask", [], "is not public" },
        { "NotATask", [], "does not derive from AdamFamily.Lab.Tasks.TrainingTask" },
        { "NoSuchTask", [], "no such type" },
        { "WrongConstructorTask", [], "no public constructor taking a TaskContext" },
        { "RegressionTask", ["--task-option", "rows=3"], "rows=3: at least 8 rows" },
        { "RegressionTask", ["--task-option", "rows"], "expected key=value" },
        { "RegressionTask", ["--task-option", "rows=1", "--task-option", "rows=2"], "--task-option rows is given twice" },
        { "RegressionTask", ["--model", "mlp"], "builds its own model" },
        { "RegressionTask", ["--task", "synthetic"], "both name the task" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void ABrokenPluginOrOption_IsExit2_NamingIt_AndWritesNothing(string type, string[] extra, string expected)
    {
        var dir = Path.Combine(_dir, "out");
        var (code, output) = Afm([.. Args(type, Dll, "compare", extra), "--out", dir]);
        Assert.True(code == 2, $"exit {code}: {output}");
        Assert.Contains(expected, output);
        Assert.DoesNotContain("   at ", output);   // no stack trace
        NothingWritten(dir);
    }

    [Fact]
    public void AModelThatNeverBuilds_IsRefusedAfterTheDocumentedTimeout()
    {
        var dir = Path.Combine(_dir, "out");
        var (code, output, err) = CliEndToEndTests.Run(new Dictionary<string, string> { ["AFM_TASK_CHECK_TIMEOUT_S"] = "2" }, [.. Args("HangingModelTask", Dll), "--out", dir]);
        Assert.True(code == 2, output + err);
        Assert.Contains("CreateModel(0)", err);
        Assert.Contains("2 s", err);
        NothingWritten(dir);
    }

    [Fact]
    public void BadAssemblyPaths_AreExit2_NamingThePath()
    {
        var notDll = Path.Combine(_dir, "notes.dll");
        File.WriteAllText(notDll, "not a DLL");
        foreach (var (path, expected) in new[] { (Path.Combine(_dir, "missing.dll"), "does not exist"), (_dir, "is a folder"), (notDll, "is not a .NET assembly") })
        {
            var dir = Path.Combine(_dir, "out");
            var (code, output) = Afm([.. Args("RegressionTask", path), "--out", dir]);
            Assert.True(code == 2, $"{path}: exit {code}: {output}");
            Assert.Contains(expected, output);
            Assert.Contains(path, output);
            NothingWritten(dir);
        }
        var (c, o) = Afm("compare", "--task-type", "X.Y", "--arm", "adam", "--out", Path.Combine(_dir, "o2"));
        Assert.True(c == 2, o);
        Assert.Contains("give --task-assembly", o);
    }

    [Fact]
    public void ATaskThatFailsDuringARun_RecordsTheRunAsFailed_WithItsMessage()
    {
        var dir = Path.Combine(_dir, "out");
        var (code, output) = Afm([.. Args("FailsInEpochTwoTask", Dll), "--out", dir]);
        Assert.True(code == 0, output);   // a failed run is a result (the worst value), as a diverged one
        Assert.Contains("run failed in epoch 2: IOException: the data server went away", output);
        Assert.DoesNotContain("   at ", output);
        var end = JsonNode.Parse(File.ReadLines(Path.Combine(dir, "runs", "adamd-seed1.jsonl")).Last())!;
        Assert.Equal("IOException: the data server went away", (string?)end["failed"]);
        Assert.Equal(2, (int)end["failed_at_epoch"]!);
        var logs = Directory.GetFiles(Path.Combine(dir, "logs"), "*", SearchOption.AllDirectories).Select(File.ReadAllText);
        Assert.Contains(logs, l => l.Contains("the data server went away"));
    }

    [Fact]
    public void NaNMetrics_CountAsFailedRuns_AtTheWorstValue()
    {
        var dir = Path.Combine(_dir, "out");
        var (code, output) = Afm([.. Args("NaNMetricTask", Dll), "--out", dir]);
        Assert.True(code is 0 or 4, output);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
        Assert.DoesNotContain("NaN", summary["versus"]!.ToJsonString());
    }
}

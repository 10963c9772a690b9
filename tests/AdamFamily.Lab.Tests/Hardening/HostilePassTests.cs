using System.Diagnostics;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Tuning;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>
/// Regression tests from the second hostile pass (issue #11's classes, in the newer commands): input that was
/// silently accepted or ignored, errors printed on standard output or with .NET's suffixes, values that hung the
/// process, and a Ctrl-C that left workers running (and retried them) after afm had gone.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class HostilePassTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>Runs afm.dll; stdout and stderr apart, so where an error is printed is checked too.</summary>
    private static (int Code, string Out, string Err) Afm(params string[] args) => CliEndToEndTests.Run(null, args);

    /// <summary>Refused with exit 2, the message on stderr (nothing on stdout), naming what it must, without .NET's text.</summary>
    private static void AssertBadInput((int Code, string Out, string Err) r, params string[] mentioned)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}, expected 2:\nstdout: {r.Out}\nstderr: {r.Err}");
        Assert.True(r.Out.Trim().Length == 0 || !r.Out.Contains("error", StringComparison.OrdinalIgnoreCase), $"the error went to stdout:\n{r.Out}");
        Assert.StartsWith("error: ", r.Err.TrimStart());
        foreach (var bad in new[] { "(Parameter '", "Actual value was", "   at ", "Exception:" }) Assert.DoesNotContain(bad, r.Err);
        foreach (var m in mentioned) Assert.True(r.Err.Contains(m, StringComparison.Ordinal), $"stderr does not mention '{m}':\n{r.Err}");
    }

    [Fact]
    public void Errors_GoToStderr_WithoutDotNetSuffixes_InStatusSummarizeWorkerAndTune()
    {
        var none = Path.Combine(_dir.Path, "nowhere");
        AssertBadInput(Afm("status", none), "nowhere");
        AssertBadInput(Afm("summarize", none), "nowhere");
        AssertBadInput(Afm("tune", "--task", "synthetic", "--arm", "adam", "--trials", "0", "--out", none), "--trials 0");
        AssertBadInput(Afm("tune", "--task", "synthetic", "--arm", "adam", "--margin", "nan", "--out", none), "margin", "NaN");

        // A real plan: a one-unit comparison, done.
        var dir = Path.Combine(_dir.Path, "done");
        Assert.Equal(0, Afm("compare", "--task", "synthetic", "--arm", "adam", "--seeds", "1", "--epochs", "1", "--train-subset", "64", "--test-subset", "64",
            "--executor", "inprocess", "--threads-per-run", "1", "--out", dir).Code);
        var plan = Path.Combine(dir, "plan.json");
        AssertBadInput(Afm("worker", "--plan", plan, "--unit", "5"), "--unit 5", "0..0");
        // --threads is checked even when the unit is already done (it was accepted silently).
        AssertBadInput(Afm("worker", "--plan", plan, "--unit", "0", "--threads", "0"), "--threads 0");
        Assert.False(Directory.Exists(none));
    }

    [Fact]
    public void ThreadCounts_ThatWouldHangLibTorch_AreRefusedUpFront()
    {
        // Was: --threads-per-run 100000 and bench --torch-threads 100000 hung in set_num_threads.
        var o = Path.Combine(_dir.Path, "t");
        AssertBadInput(Afm("compare", "--task", "synthetic", "--arm", "adam", "--threads-per-run", "100000", "--out", o), "--threads-per-run 100000", "256");
        AssertBadInput(Afm("bench", "--smoke", "--torch-threads", "100000"), "--torch-threads 100000");
        Assert.False(Directory.Exists(o));
        Assert.Throws<ArgumentOutOfRangeException>(() => UnitRunner.PinThreads(UnitRunner.MaxThreads + 1));
    }

    [Fact]
    public void CommaLists_RefuseEmptyItems_AndRepeats_InEveryCommand()
    {
        // Was: "adam,,adamd" dropped the empty item and "adam,adam" ran (and plotted) adam twice.
        var o = Path.Combine(_dir.Path, "lists");
        AssertBadInput(Afm("toy", "--optimizers", "adam,,adamd", "--out", o), "--optimizers", "empty item");
        AssertBadInput(Afm("toy", "--optimizers", "adam,ADAM", "--out", o), "--optimizers", "'adam' is given twice");
        AssertBadInput(Afm("theory", "stationarity", "--problems", "logistic,logistic", "--out", o), "--problems");
        AssertBadInput(Afm("theory", "sgd-limit", "--estimators", "adam,", "--out", o), "--estimators");
        AssertBadInput(Afm("theory", "stability", "--factors", "0.5,,1", "--out", o), "--factors");
        AssertBadInput(Afm("bench", "--smoke", "--presets", ""), "--presets");
        AssertBadInput(Afm("bench", "--smoke", "--presets", "adamw,adamw"), "--presets");
        Assert.False(Directory.Exists(o));
    }

    [Fact]
    public void OptionsThatWouldBeIgnored_AndOverflowingFactors_AreRefused()
    {
        var o = Path.Combine(_dir.Path, "ignored");
        AssertBadInput(Afm("toy", "--grid", "1e-4:1:8", "--out", o), "--grid", "--search");          // was: no search, grid ignored
        AssertBadInput(Afm("toy", "--search", "--lr", "0.001", "--out", o), "--lr 0.001", "--search");   // was: --lr ignored
        AssertBadInput(Afm("bench", "--smoke", "--epochs", "5"), "--epochs", "--train");              // was: ignored without --train
        AssertBadInput(Afm("bench", "--smoke", "--presets", "sgd", "--state-precisions", "int8"), "--presets sgd", "float32");   // was: ours not timed at all
        AssertBadInput(Afm("compare", "--task", "synthetic", "--arm", "adam", "--data", _dir.Path, "--out", o), "data", "synthetic");   // was: ignored
        AssertBadInput(Afm("compare", "--task", "synthetic", "--arm", "adam", "--executor", "inprocess", "--retries", "5", "--out", o), "--retries", "inprocess");
        foreach (var command in new[] { "compare", "tune" })
        {
            AssertBadInput(Afm(command, "--task", "synthetic", "--arm", "adam", "--scale", "quick", "--out", o), "--scale", "--protocol");   // was: ignored
            var file = _dir.File("e.json");
            File.WriteAllText(file, """{ "task": "synthetic", "arms": [ { "name": "adam", "optimizer": "adam" } ] }""");
            AssertBadInput(Afm(command, "--protocol", "fmnist-mlp", "--experiment", file, "--out", o), "--protocol", "--experiment");   // was: protocol ignored
            var (code, _, err) = Afm(command, "--task", "synthetic", "--arm", "adam", "--out", "");   // was: "The value cannot be an empty string."
            Assert.Equal(2, code);
            Assert.Contains("--out: an empty path", err);
        }
        AssertBadInput(Afm("compare", "--task", "synthetic", "--arm", "adam", "--executor", "inprocess", "--afm", "/x/afm", "--out", o), "--afm", "inprocess");
        // Was: exit 3, "internal error (ArithmeticException)": the overshoot overflowed to NaN.
        AssertBadInput(Afm("theory", "stability", "--factors", "1e300", "--out", o), "--factors", "overflows");
        AssertBadInput(Afm("theory", "stability", "--factors", "9.99", "--steps", "100000", "--out", o), "--factors", "--steps 100000");
        Assert.False(Directory.Exists(o));
    }

    [Theory]
    [InlineData("adam:lr=1e-4..1e-2,lr=1e-3..1e-1", "'lr' is given twice")]        // was: the second range silently won
    [InlineData("adam:lr=1e-4..1e-2:log:lin", "more than one scale")]               // was: ':lin' ignored
    [InlineData("adam:lr=1e-4..1e-2,,beta1=0.8..0.9", "empty item")]                 // was: dropped
    [InlineData("adam:lr=1e-4..1e-2,", "empty item")]
    [InlineData("adam:,", "no dimensions")]
    public void SpaceOverrides_HaveAStrictGrammar(string text, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => SearchSpace.ParseOverride(text));
        Assert.Contains(message, e.Message);
        Assert.Contains(text, e.Message);
    }

    [Theory]
    [InlineData("""{"adam": [{"key": "lr", "lo": 1e-4, "high": 1e-2}]}""", "unknown field 'lo'")]         // was: low = 0, "must be > 0"
    [InlineData("""{"adam": [{"key": "lr", "low": 1e-4}]}""", "\"high\" is missing")]                        // was: high = 0
    [InlineData("""null""", "found null")]                                                                      // was: the file was ignored
    [InlineData("""{}""", "names no arm")]
    [InlineData("""{"adam": []}""", "empty list")]                                                              // was: ignored
    [InlineData("""{"adam": null}""", "found null")]
    [InlineData("""{"adam": [{"key": "lr", "low": 1e-4, "high": 1e-2}, {"key": "LR", "low": 1e-3, "high": 1e-1}]}""", "'lr' is given twice")]   // was: last won
    [InlineData("""{"adam": [{"key": "lr", "low": 1e-4, "high": 1e-2}], "adam": [{"key": "lr", "low": 1e-3, "high": 1e-1}]}""", "Duplicate")]  // was: last won
    [InlineData("""{"adam": [{"key": "lr", "low": "1e-4", "high": 1e-2}]}""", "must be a number")]
    [InlineData("""{"adam": [{"key": "lr", "low": 1e-4, "high": 1e-2, "log": "yes"}]}""", "true or false")]
    [InlineData("""{"adam": [{"key": "lr", "low": 1e-4, "high": 1e-2, "log": null}]}""", "true or false")]
    [InlineData("""{"adam": [{"low": 1e-4, "high": 1e-2}]}""", "\"key\" is missing")]
    [InlineData("""[1]""", "found a list")]
    [InlineData("""{"adam": [ """, "not valid JSON")]
    public void SpaceFiles_AreReadStrictly(string json, string message)
    {
        var file = _dir.File("space.json");
        File.WriteAllText(file, json);
        var e = Assert.ThrowsAny<Exception>(() => SpaceFile.Read(file));
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(file, e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void SpaceFiles_StillReadWhatIsWellFormed_AndLogDefaultsAsOnTheCommandLine()
    {
        var file = _dir.File("space.json");
        File.WriteAllText(file, """{"adam": [{"key": "lr", "low": 1e-4, "high": 1e-2}, {"key": "beta1", "low": 0.8, "high": 0.95, "log": false}], "b": [{"key": "eps", "low": 1e-10, "high": 1e-6, "log": true}]}""");
        var read = SpaceFile.Read(file);
        Assert.Equal(new[] { "adam", "b" }, read.Keys);
        Assert.Equal(new SearchDimension("lr", 1e-4, 1e-2, true), read["adam"][0]);
        Assert.Equal(new SearchDimension("beta1", 0.8, 0.95, false), read["adam"][1]);
        Assert.Equal(SearchSpace.ParseOverride("adam:lr=1e-4..1e-2,beta1=0.8..0.95").Dimensions, read["adam"]);
        Assert.Throws<InvalidDataException>(() => SpaceFile.Read(_dir.Path));   // a folder
    }

    [Fact]
    public void TrialBudgets_ThatCannotBePlanned_AreRefused()
    {
        // Was: --trials 2147483647 claimed the folder, then hung building the plan.
        var s = new TuneSettings
        {
            Experiment = new ExperimentSettings { Task = "synthetic", Arms = new[] { new ArmSpec("adam", "adam") } },
            Trials = int.MaxValue,
            Spaces = new() { ["adam"] = SearchSpace.Default("adam") },
        };
        Assert.Contains("at most", Assert.Throws<ArgumentOutOfRangeException>(() => s.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => (s with { Trials = 1000, Studies = 11 }).Validate());
        (s with { Trials = 1000, Studies = 10, Experiment = s.Experiment with { Seeds = new[] { 0 } } }).Validate();
    }

    [Fact]
    public void ExperimentFiles_RefuseAKeyGivenTwice()
    {
        // Was: {"epochs": 1, "epochs": 5} ran 5 epochs.
        var e = Assert.Throws<InvalidDataException>(() => ExperimentSettings.FromJson("""{ "task": "synthetic", "epochs": 1, "epochs": 5 }""", "/tmp/x.json"));
        Assert.Contains("/tmp/x.json", e.Message);
        Assert.Contains("given twice", e.Message);
    }

    [Fact]
    public void ResultsFolders_UnderAFile_OrEmpty_AreRefusedNamingOut()
    {
        // Was: "Could not find a part of the path ..." (no option named) once the comparison had started.
        var file = _dir.File("a-file");
        File.WriteAllText(file, "x");
        var e = Assert.Throws<InvalidOperationException>(() => ResultsFolder.CheckUsable(Path.Combine(file, "sub", "deeper")));
        Assert.Contains("--out", e.Message);
        Assert.Contains($"'{file}' is a file", e.Message);
        Assert.Contains("--out", Assert.Throws<ArgumentException>(() => ResultsFolder.CheckUsable(" ")).Message);
        Assert.Equal("x", File.ReadAllText(file));
        ResultsFolder.CheckUsable(Path.Combine(_dir.Path, "new", "folder"));   // not there yet: fine, and nothing is made
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "new")));
    }

    [Fact]
    public void ResultsMadeUnderOtherSettings_AreNotReadAsTheseSettings()
    {
        // Was: after experiment.json was edited (epochs 1 → 2), status said "done" and summarize/report summarised the
        // 1-epoch runs as results of the 2-epoch experiment.
        var dir = Path.Combine(_dir.Path, "edited");
        Assert.Equal(0, Afm("compare", "--task", "synthetic", "--arm", "adam", "--seeds", "1", "--epochs", "1", "--train-subset", "64", "--test-subset", "64",
            "--executor", "inprocess", "--threads-per-run", "1", "--out", dir).Code);
        Assert.NotNull(Assert.Single(ComparisonRunner.Inspect(dir).Units).Result);
        var settings = Path.Combine(dir, "experiment.json");
        File.WriteAllText(settings, File.ReadAllText(settings).Replace("\"epochs\": 1,", "\"epochs\": 2,", StringComparison.Ordinal));
        File.Delete(Path.Combine(dir, "summary.json"));
        Assert.Null(Assert.Single(ComparisonRunner.Inspect(dir).Units).Result);
        var (code, status, err) = Afm("status", dir);
        Assert.True(code == 0, status + err);
        Assert.Contains("1 stale", status);   // the old file is there, but it is not a result of these settings
        Assert.Null(ComparisonRunner.Summarize(dir).Summary);
        Assert.Throws<InvalidDataException>(() => AdamFamily.Lab.Reports.ComparisonReport.Load(dir));
    }

    [Theory]
    [InlineData("""[{"job_id": "123; scancel -u x", "submitted": "t", "plan_hash": "h", "units": [0]}]""", "entry 0")]   // was: passed on to squeue
    [InlineData("""[null]""", "entry 0")]                                                                                  // was: silently no job
    [InlineData("""null""", "null")]
    [InlineData("""[{"job_id": "77", "submitted": "t", "plan_hash": "h"}]""", "entry 0")]
    public void SlurmJobRecords_AreChecked(string json, string message)
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "slurm"));
        File.WriteAllText(Path.Combine(_dir.Path, "slurm", "jobs.json"), json);
        var e = Assert.Throws<InvalidDataException>(() => SlurmExecutor.LoadJobs(_dir.Path));
        Assert.Contains("jobs.json", e.Message);
        Assert.Contains(message, e.Message);
        File.WriteAllText(Path.Combine(_dir.Path, "slurm", "jobs.json"), """[{"job_id": "77", "submitted": "t", "plan_hash": "h", "units": [0, 1]}]""");
        Assert.Equal("77", Assert.Single(SlurmExecutor.LoadJobs(_dir.Path)).JobId);
    }

    [Fact]
    public void LanguageModels_TooBigToBuild_AreRefusedUpFront()
    {
        // Was: --layers 100000 hung building the model inside the run; --hidden 10⁸ failed inside every run.
        Assert.Contains("layers = 100000", Assert.Throws<ArgumentOutOfRangeException>(() => new LanguageModelSettings { Layers = 100_000 }.Validate()).Message);
        Assert.Contains("weights", Assert.Throws<ArgumentOutOfRangeException>(() => new LanguageModelSettings { Hidden = 100_000_000 }.Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LanguageModelSettings { Embedding = 2_000_000_000 }.Validate());
        new LanguageModelSettings().Validate();
        foreach (var p in new[] { "ptb-lstm-1layer", "ptb-lstm-2layer", "ptb-lstm-3layer" })
            foreach (var scale in new[] { "quick", "full" }) Protocols.Get(p, scale).Validate();   // every protocol still fits
    }

    [Theory]
    [InlineData("../outside.jsonl")]
    [InlineData("/tmp/outside.jsonl")]
    [InlineData("runs//x.jsonl")]
    [InlineData("")]
    public void Plans_WhoseResultsLeaveTheFolder_AreRefused_EvenWithAMatchingHash(string result)
    {
        // The plan hash catches an edit, not a plan whose hash was recomputed: the result path itself is checked too.
        var s = new ExperimentSettings { Task = "synthetic", Arms = new[] { new ArmSpec("adam", "adam") } };
        var plan = RunPlan.Create("compare", "experiment.json", RunPlan.HashOf(s), 1, new[] { new RunUnit(0, s.Arms[0], 0, result) });
        var path = _dir.File("plan.json");
        File.WriteAllText(path, plan.ToJson());
        var e = Assert.Throws<InvalidDataException>(() => RunPlan.Load(path));
        Assert.Contains("inside the plan's folder", e.Message);
        File.WriteAllText(path, RunPlan.ForComparison(s, 1).ToJson());
        Assert.Equal(s.Seeds.Length, RunPlan.Load(path).Units.Length);   // afm's own plan still loads
    }

    [Fact]
    public async Task CtrlC_StopsTheLocalWorkers_StartsNoNewOnes_AndExits130()
    {
        // Was: the interrupted parent counted its killed workers as failed attempts, retried them, started the next
        // units, and ended with those workers still running (orphans writing into the folder after afm had gone).
        // Ctrl-C signals the terminal's whole foreground process group — afm and its workers at once — so afm runs in a
        // group of its own (setsid: same pid, new session) and the test signals that group, not the test host's.
        var dir = Path.Combine(_dir.Path, "sigint");
        var psi = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "afm.dll"));
        foreach (var a in new[] { "compare", "--task", "synthetic", "--arm", "adam", "--arm", "adamd", "--seeds", "3", "--epochs", "2000",
                                  "--train-subset", "64", "--test-subset", "64", "--validation", "64", "--workers", "2", "--threads-per-run", "1", "--out", dir })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = new System.Text.StringBuilder();
        p.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var log = Path.Combine(dir, "logs", "unit-0.log");
        var until = DateTime.UtcNow.AddSeconds(120);
        while (!(File.Exists(log) && File.ReadAllText(log).Contains("afm-progress", StringComparison.Ordinal)) && DateTime.UtcNow < until) await Task.Delay(100);
        Assert.True(File.Exists(log), "no worker started");
        Process.Start("kill", new[] { "-INT", "--", "-" + p.Id.ToString() })!.WaitForExit();   // Ctrl-C: the whole group
        using (var timeout = new CancellationTokenSource(60_000)) await p.WaitForExitAsync(timeout.Token);
        p.WaitForExit();
        string text;
        lock (output) text = output.ToString();
        Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}:\n{text}");
        Assert.DoesNotContain("retrying", text);
        await Task.Delay(2000);
        var plan = Path.Combine(dir, "plan.json");
        var left = Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "cmdline"))
            .Select(f => { try { return File.ReadAllText(f).Replace('\0', ' '); } catch (IOException) { return ""; } catch (UnauthorizedAccessException) { return ""; } })
            .Where(c => c.Contains(plan, StringComparison.Ordinal)).ToList();
        Assert.True(left.Count == 0, "workers still running after afm ended:\n" + string.Join("\n", left));
        Assert.True(!Directory.Exists(Path.Combine(dir, "runs")) || !Directory.EnumerateFiles(Path.Combine(dir, "runs")).Any());
        Assert.False(Directory.EnumerateFiles(dir, "unit-2.log", SearchOption.AllDirectories).Any(), "a unit was started after the interrupt");
    }
}

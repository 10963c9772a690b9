using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Tests;

/// <summary>Run units, plans, workers and the local executor.</summary>
[Collection(TorchRngCollection.Name)]
public class ExecutionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-exec-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static ExperimentSettings Small => ComparisonTests.Tiny with { Seeds = new[] { 0, 1 }, Epochs = 2 };

    internal static AfmCommand TestAfm => new("dotnet", new[] { Path.Combine(AppContext.BaseDirectory, "afm.dll") });

    private static EpochMetrics WithoutTimes(EpochMetrics e) => e with { Seconds = 0, OptimizerSeconds = 0 };

    internal static List<EpochMetrics[]> Metrics(string dir, ExperimentSettings s)
    {
        var store = new ResultStore(dir);
        return s.Seeds.SelectMany(seed => s.Arms.Select(a => store.TryLoadRun(a.Name, seed)!.Epochs.Select(WithoutTimes).ToArray())).ToList();
    }

    [Fact]
    public void ThePlan_IsSeedMajor_AndItsHashesCatchEdits()
    {
        var s = Small;
        var plan = RunPlan.ForComparison(s, 1);
        Assert.Equal(new[] { ("adamd", 0), ("adamw", 0), ("adamd", 1), ("adamw", 1) }, plan.Units.Select(u => (u.Arm.Name, u.Seed)));
        Assert.Equal(Enumerable.Range(0, 4), plan.Units.Select(u => u.Index));
        Assert.Equal(plan, RunPlan.ForComparison(s, 1) with { }, new PlanComparer());
        Assert.NotEqual(plan.SettingsHash, RunPlan.ForComparison(s with { Epochs = 3 }, 1).SettingsHash);

        var path = Path.Combine(_dir, "plan.json");
        File.WriteAllText(path, plan.ToJson());
        Assert.Equal(plan.PlanHash, RunPlan.Load(path).PlanHash);
        File.WriteAllText(path, plan.ToJson().Replace("\"seed\": 1", "\"seed\": 7"));
        var e = Assert.Throws<InvalidDataException>(() => RunPlan.Load(path));
        Assert.Contains("edited", e.Message);
        Assert.Contains(path, e.Message);
    }

    private sealed class PlanComparer : IEqualityComparer<RunPlan>
    {
        public bool Equals(RunPlan? a, RunPlan? b) => a!.ToJson() == b!.ToJson();
        public int GetHashCode(RunPlan p) => 0;
    }

    [Fact]
    public void AWorker_RefusesAChangedPlanOrSettings_AndWritesNothing()
    {
        var s = Small with { Seeds = new[] { 0 } };
        var dir = Path.Combine(_dir, "w");
        var outcome = ComparisonRunner.Execute(s, dir, new RunOptions { Executor = new NoOpExecutor(), ThreadsPerRun = 1 });
        Assert.Equal(2, outcome.Missing.Count);
        var planPath = Path.Combine(dir, "plan.json");
        var hash = RunPlan.Load(planPath).PlanHash;

        // Submitted with another plan: refused before anything is written.
        var e = Assert.Throws<InvalidDataException>(() => UnitRunner.RunFromPlan(planPath, 0, "0123456789abcdef", 1, null, default));
        Assert.Contains("changed after this job was submitted", e.Message);
        // experiment.json edited after the plan was made.
        var settingsPath = Path.Combine(dir, "experiment.json");
        var original = File.ReadAllText(settingsPath);
        File.WriteAllText(settingsPath, original.Replace("\"epochs\": 2", "\"epochs\": 3"));
        e = Assert.Throws<InvalidDataException>(() => UnitRunner.RunFromPlan(planPath, 0, hash, 1, null, default));
        Assert.Contains("experiment.json changed", e.Message);
        File.WriteAllText(settingsPath, original);
        Assert.Throws<ArgumentOutOfRangeException>(() => UnitRunner.RunFromPlan(planPath, 9, hash, 1, null, default));
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")));

        // The real thing through the command line; a second call finds the result and does not retrain.
        var (code, output) = CliEndToEndTests.Afm("worker", "--plan", planPath, "--unit", "1", "--plan-hash", hash);
        Assert.True(code == 0, output);
        Assert.Contains("afm-progress unit=1 epoch=2/2", output);
        (code, output) = CliEndToEndTests.Afm("worker", "--plan", planPath, "--unit", "1");
        Assert.Equal(0, code);
        Assert.Contains("already done", output);
        (code, output) = CliEndToEndTests.Afm("worker", "--plan", planPath, "--unit", "0", "--plan-hash", "feedbeef");
        Assert.Equal(2, code);
        Assert.Contains("nothing was run", output);
        Assert.False(File.Exists(Path.Combine(dir, "runs", "adamd-seed0.jsonl")));
    }

    [Fact]
    public void TheSameSeed_GivesBitIdenticalResults_InProcess_InAWorker_AndWithTwoLocalWorkers()
    {
        var s = Small;
        var inProcess = Path.Combine(_dir, "inprocess");
        ComparisonRunner.Execute(s, inProcess, new RunOptions { Executor = new InProcessExecutor(), ThreadsPerRun = 1 });
        var local = Path.Combine(_dir, "local");
        var outcome = ComparisonRunner.Execute(s, local, new RunOptions { Executor = new LocalExecutor(TestAfm, 2, 0), ThreadsPerRun = 1 });
        Assert.NotNull(outcome.Summary);
        Assert.Equal(Metrics(inProcess, s), Metrics(local, s));
        var a = File.ReadAllText(Path.Combine(inProcess, "summary.json"));
        Assert.Equal(ComparisonSummary.FromJson(a).Arms.Select(x => x.FinalBySeed), outcome.Summary!.Arms.Select(x => x.FinalBySeed));
        Assert.True(File.Exists(Path.Combine(local, "logs", "unit-3.log")));
    }

    [Fact]
    public void AFailingWorker_IsRetried_ThenReportedWithItsLog_AndTheOthersGoOn()
    {
        var s = Small with { Seeds = new[] { 0 } };
        // A worker that crashes for unit 1 (once, or always), and is the real afm otherwise.
        string Flaky(bool always)
        {
            var script = Path.Combine(_dir, always ? "broken.sh" : "flaky.sh");
            var marker = Path.Combine(_dir, "crashed-once");
            File.WriteAllText(script, $$"""
                #!/bin/bash
                unit=""; prev=""
                for a in "$@"; do [ "$prev" = "--unit" ] && unit=$a; prev=$a; done
                if [ "$unit" = "1" ] && { {{(always ? "true" : $"[ ! -e '{marker}' ]")}}; }; then
                  touch '{{marker}}'; echo "simulated crash of unit 1" >&2; exit 3
                fi
                exec dotnet '{{Path.Combine(AppContext.BaseDirectory, "afm.dll")}}' "$@"
                """);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return script;
        }

        var retried = new List<(int, int, bool)>();
        var ok = ComparisonRunner.Execute(s, Path.Combine(_dir, "flaky"), new RunOptions
        {
            Executor = new LocalExecutor(new AfmCommand(Flaky(false), Array.Empty<string>()), 2, 1), ThreadsPerRun = 1,
            Events = new UnitEvents { AttemptFailed = (u, attempt, retry, _) => retried.Add((u.Index, attempt, retry)) },
        });
        Assert.Equal(new[] { (1, 1, true) }, retried);
        Assert.NotNull(ok.Summary);

        var bad = ComparisonRunner.Execute(s, Path.Combine(_dir, "broken"), new RunOptions
        {
            Executor = new LocalExecutor(new AfmCommand(Flaky(true), Array.Empty<string>()), 2, 1), ThreadsPerRun = 1,
        });
        Assert.Null(bad.Summary);
        var failure = Assert.Single(bad.Execution.Failed);
        Assert.Equal(1, failure.Unit.Index);
        Assert.Contains("after 2 attempts", failure.Reason);
        Assert.Contains("simulated crash of unit 1", failure.LogTail);
        Assert.Equal(new[] { 1 }, bad.Missing.Select(u => u.Index));
        Assert.NotNull(new ResultStore(Path.Combine(_dir, "broken")).TryLoadRun("adamd", 0)); // the other unit went on

        // afm status and afm summarize on the unfinished folder.
        var brokenDir = Path.Combine(_dir, "broken");
        var (code, output) = CliEndToEndTests.Afm("status", brokenDir);
        Assert.True(code == 0, output);
        Assert.Contains("1 done, 1 missing", output);
        Assert.Contains("unit-1.log", output);
        (code, output) = CliEndToEndTests.Afm("summarize", brokenDir);
        Assert.Equal(1, code); // the only seed lacks an arm: nothing to summarise
        Assert.Contains("unit 1 (adamw, seed 0)", output);
        Assert.False(File.Exists(Path.Combine(brokenDir, "summary.json")));
        (code, output) = CliEndToEndTests.Afm("summarize", _dir);
        Assert.Equal(2, code);
        Assert.Contains("not an afm results folder", output);
    }

    [Fact]
    public void AStabilityRefusalInsideARun_IsRecordedAsAFailedRun_AndTheComparisonGoesOn()
    {
        // η·σ·ε^(-1/2) = 1e-3 · 0.05 · 1e4 = 0.5 passes at construction; ×10 from the second epoch makes it 5: refused.
        var s = Small with
        {
            Seeds = new[] { 0 },
            Schedule = new ScheduleSpec("multistep", new[] { 1 }, 10),
            Arms = new[] { new ArmSpec("adam", "adam:lr=1e-4"), new ArmSpec("unstable", "adamd:lr=1e-3,weight_decay=0.05") },
        };
        var dir = Path.Combine(_dir, "refusal");
        var summary = ComparisonRunner.Run(s, dir);
        var run = new ResultStore(dir).TryLoadRun("unstable", 0)!;
        Assert.True(run.Failed);
        Assert.Equal(2, run.Failure!.Epoch);
        Assert.Contains("UnstableDecay", run.Failure.Reason);
        Assert.Equal(1, summary.Arms.Single(a => a.Arm == "unstable").Divergences);
        Assert.False(new ResultStore(dir).TryLoadRun("adam", 0)!.Failed);
        // The failed run is kept in its pair at the task's worst value: chance accuracy of the 10-class synthetic task.
        Assert.Equal(100.0 / 10, summary.Arms.Single(a => a.Arm == "unstable").FinalBySeed[0]);
        Assert.Equal(1, summary.Versus.Single().Pairs);
    }

    [Fact]
    public void ArmLabels_MapToDistinctFiles_OrAreRefused()
    {
        Assert.Equal(3, new[] { "a b", "a_b", "a/b" }.Select(ResultFileNames.Escape).Distinct().Count());
        Assert.Equal("adamd", ResultFileNames.Escape("adamd"));
        Assert.DoesNotContain('/', ResultFileNames.Escape("a/b"));
        Assert.NotEqual(ResultFileNames.Escape("a%2Fb"), ResultFileNames.Escape("a/b"));
        Assert.NotEqual("..", ResultFileNames.Escape(".."));

        var s = Small with
        {
            Seeds = new[] { 0 }, Epochs = 1,
            Arms = new[] { new ArmSpec("a b", "adam:lr=1e-3"), new ArmSpec("a_b", "adam:lr=1e-2"), new ArmSpec("a/b", "sgd:lr=0.1") },
        };
        var dir = Path.Combine(_dir, "labels");
        ComparisonRunner.Run(s, dir);
        var store = new ResultStore(dir);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(dir, "runs")).Length);
        Assert.NotEqual(store.TryLoadRun("a b", 0)!.Epochs[0].TestLoss, store.TryLoadRun("a_b", 0)!.Epochs[0].TestLoss);
        Assert.Equal("a/b", store.TryLoadRun("a/b", 0)!.Arm);

        var clash = Small with { Arms = new[] { new ArmSpec("Adam", "adam"), new ArmSpec("adam", "adam:lr=1e-2") } };
        var e = Assert.ThrowsAny<ArgumentException>(() => ComparisonRunner.Run(clash, Path.Combine(_dir, "clash")));
        Assert.Contains("case", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "clash")));
    }

    [Fact]
    public void TuningTrials_AreUnitsToo_AndRunThroughTheSameExecutors()
    {
        // What afm tune hands the executors: the arm at each trial's point, a trial id, its own result file.
        var s = Small with { Seeds = new[] { 0 }, Epochs = 1 };
        var units = new[] { "1e-3", "3e-3" }.Select((lr, t) =>
            new RunUnit(0, new ArmSpec("adamd", $"adamd:lr={lr}"), Seed: 5, Result: $"trials/adamd-t{t}-seed5.jsonl", Trial: $"t{t}")).ToList();
        var results = new List<RunResult?[]>();
        foreach (var (name, executor) in new (string, IUnitExecutor)[] { ("inprocess", new InProcessExecutor()), ("local", new LocalExecutor(TestAfm, 2, 0)) })
        {
            var dir = Path.Combine(_dir, "tune-" + name);
            using var folder = ResultsFolder.Claim(dir);
            var store = new ResultStore(folder.Dir);
            store.BindSettings(s);
            var plan = RunPlan.Create("tune", "experiment.json", RunPlan.HashOf(s), 1, units);
            var (execution, got) = PlanRunner.Run(folder.Dir, plan, s, executor, new UnitEvents(), null, default);
            Assert.Empty(execution.Failed);
            Assert.Contains("\"trial\":\"t1\"", File.ReadAllLines(Path.Combine(dir, "trials", "adamd-t1-seed5.jsonl"))[0]);
            if (name == "local") Assert.Contains("afm-progress unit=1 epoch=1/1", File.ReadAllText(Path.Combine(dir, "logs", "unit-1.log"))); // run by a worker process
            results.Add(got.Select(x => x.Result).ToArray());
            // A second pass finds both trials done and runs nothing.
            var reused = new List<int>();
            PlanRunner.Run(folder.Dir, plan, s, new NoOpExecutor(), new UnitEvents { Finished = (u, _, r) => { if (r) reused.Add(u.Index); } }, null, default);
            Assert.Equal(new[] { 0, 1 }, reused);
        }
        Assert.All(results, r => Assert.All(r, x => Assert.NotNull(x)));
        Assert.Equal(results[0].Select(r => r!.Epochs.Select(WithoutTimes).ToArray()), results[1].Select(r => r!.Epochs.Select(WithoutTimes).ToArray()));
        Assert.NotEqual(results[0][0]!.Epochs[0].TestLoss, results[0][1]!.Epochs[0].TestLoss); // the two points differ
    }

    /// <summary>Runs nothing (to look at a prepared folder).</summary>
    private sealed class NoOpExecutor : IUnitExecutor
    {
        public void Preflight() { }
        public ExecutionOutcome Execute(UnitContext ctx, IReadOnlyList<RunUnit> todo, UnitEvents events, CancellationToken cancel) => ExecutionOutcome.Empty;
    }
}

/// <summary>The Slurm job array script and its option handling (no cluster needed).</summary>
public class SlurmScriptTests
{
    [Fact]
    public void ArraySpecs_AreCompactRanges()
    {
        Assert.Equal("0-3,5,7-8", SlurmExecutor.ArraySpec(new[] { 8, 0, 1, 2, 3, 5, 7 }));
        Assert.Equal("4", SlurmExecutor.ArraySpec(new[] { 4 }));
        Assert.Equal("1,3,5", SlurmExecutor.ArraySpec(new[] { 5, 3, 1, 3 }));
    }

    [Fact]
    public void SlurmArgs_SplitLikeAShell_AndBadOnesAreRefused()
    {
        Assert.Equal(new[] { "--partition", "gpu", "--time=1:00:00", "--comment=two words" },
            SlurmExecutor.SplitArgs("--partition gpu  --time=1:00:00 '--comment=two words'"));
        Assert.Throws<ArgumentException>(() => SlurmExecutor.SplitArgs("--comment='open"));
        Assert.Throws<ArgumentException>(() => SlurmExecutor.CheckDir("/tmp/my results"));
        Assert.Throws<ArgumentException>(() => SlurmExecutor.CheckDir("/tmp/100%"));
        SlurmExecutor.CheckDir("/shared/runs/fmnist-mlp_2");
    }

    [Fact]
    public void TheScript_RunsOneWorkerPerTask_WithThePlansHash_AndThePassedOptions()
    {
        var s = ExecutionTests.Small;
        var plan = RunPlan.ForComparison(s, 2);
        var ctx = new UnitContext("/shared/runs/x", plan, s);
        var exec = new SlurmExecutor(new AfmCommand("/opt/afm/afm", Array.Empty<string>()),
            new SlurmOptions { Concurrency = 3, ExtraArgs = SlurmExecutor.SplitArgs("--partition gpu --time=2:00:00 --gres=gpu:1") });
        var script = exec.Script(ctx, new[] { plan.Units[1], plan.Units[3] });
        var lines = script.Split('\n');
        Assert.Contains("#SBATCH --array=1,3%3", lines);
        Assert.Contains("#SBATCH --cpus-per-task=2", lines);
        Assert.Contains("#SBATCH --partition gpu", lines);
        Assert.Contains("#SBATCH --time=2:00:00", lines);
        Assert.Contains("#SBATCH --gres=gpu:1", lines);
        Assert.Contains("#SBATCH --output=/shared/runs/x/slurm/logs/unit-%a.out", lines);
        Assert.Contains("#SBATCH --requeue", lines);
        Assert.Contains($"'/opt/afm/afm' 'worker' '--plan' '/shared/runs/x/plan.json' '--unit' \"$SLURM_ARRAY_TASK_ID\" '--plan-hash' '{plan.PlanHash}' '--threads' '2'", lines);
        // Every #SBATCH line comes before the first command (sbatch stops reading directives there).
        int lastDirective = Array.FindLastIndex(lines, l => l.StartsWith("#SBATCH"));
        int firstCommand = Array.FindIndex(lines, l => l.Length > 0 && !l.StartsWith('#'));
        Assert.True(lastDirective < firstCommand);
    }
}

using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

[Collection(TorchRngCollection.Name)]
public class ComparisonTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-cmp-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static ExperimentSettings Tiny => new()
    {
        Protocol = "test",
        Task = "synthetic",
        Model = "mlp",
        Epochs = 2,
        BatchSize = 64,
        Seeds = new[] { 0, 1, 2 },
        TrainSubset = 320,
        TestSubset = 160,
        Schedule = new ScheduleSpec("multistep", new[] { 1 }, 0.1),
        Arms = new[] { new ArmSpec("adamd", "adamd:lr=1e-3"), new ArmSpec("adamw", "adamw:lr=1e-3") },
    };

    private static EpochMetrics WithoutTimes(EpochMetrics e) => e with { Seconds = 0, OptimizerSeconds = 0 };

    [Fact]
    public void TheSameRunTwice_GivesIdenticalMetrics()
    {
        using var task = TaskLoader.Load(Tiny);
        var a = Trainer.Run(task, Tiny, Tiny.Arms[0], seed: 1);
        var b = Trainer.Run(task, Tiny, Tiny.Arms[0], seed: 1);
        Assert.Equal(a.Epochs.Select(WithoutTimes), b.Epochs.Select(WithoutTimes));
        Assert.Equal(2, a.Epochs.Count);
        Assert.Equal(1e-4, a.Epochs[1].LearningRate, 12); // the multistep schedule reached the optimizer
    }

    [Fact]
    public void ArmsWithTheSameSeed_StartFromTheSameWeights_AndSeeTheSameBatches()
    {
        using var task = TaskLoader.Load(Tiny);
        (double[] weights, List<long[]> labels) Observe(ArmSpec arm, int seed)
        {
            double[] w = Array.Empty<double>();
            var batches = new List<long[]>();
            var observer = new TrainerObserver(
                m => w = m.parameters().SelectMany(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray(),
                (epoch, b, batch) => batches.Add(batch.Target.data<long>().ToArray()));
            Trainer.Run(task, Tiny, arm, seed, observer: observer);
            return (w, batches);
        }
        var adamd = Observe(Tiny.Arms[0], 2);
        var sgd = Observe(new ArmSpec("sgd", "sgd:lr=0.1,momentum=0.9"), 2);
        var otherSeed = Observe(Tiny.Arms[0], 3);
        Assert.Equal(adamd.weights, sgd.weights);
        Assert.Equal(adamd.labels, sgd.labels);
        Assert.NotEqual(adamd.weights, otherSeed.weights);
        Assert.NotEqual(adamd.labels, otherSeed.labels);
        Assert.NotEqual(adamd.labels[0], adamd.labels[5]); // reshuffled between epochs (5 batches per epoch)
    }

    [Fact]
    public void AKilledComparison_ResumesToTheSameResult_AsAnUninterruptedOne()
    {
        var straight = ComparisonRunner.Run(Tiny, Path.Combine(_dir, "straight"));

        var resumedDir = Path.Combine(_dir, "resumed");
        using var cts = new CancellationTokenSource();
        int batches = 0;
        // Runs go seed-major (seed 0: adamd, adamw; seed 1: adamd, adamw; ...), 10 batches each:
        // kill in the middle of the fourth run (seed 1, adamw), mid-epoch.
        Assert.ThrowsAny<OperationCanceledException>(() => ComparisonRunner.Run(Tiny, resumedDir,
            progress: _ => { if (++batches == 3 * 10 + 7) cts.Cancel(); }, cancel: cts.Token));
        var store = new ResultStore(resumedDir);
        Assert.NotNull(store.TryLoadRun("adamd", 0));
        Assert.NotNull(store.TryLoadRun("adamw", 0));
        Assert.NotNull(store.TryLoadRun("adamd", 1));
        Assert.Null(store.TryLoadRun("adamw", 1));
        Assert.False(File.Exists(Path.Combine(resumedDir, "summary.json")));

        var reused = new List<(string, int)>();
        var resumed = ComparisonRunner.Run(Tiny, resumedDir, runDone: (r, wasReused) => { if (wasReused) reused.Add((r.Arm, r.Seed)); });
        Assert.Equal(new[] { ("adamd", 0), ("adamw", 0), ("adamd", 1) }, reused);
        Assert.Equal(straight.Arms.Select(a => a.FinalBySeed), resumed.Arms.Select(a => a.FinalBySeed));
        Assert.Equal(straight.Versus.Select(v => (v.MeanDifference, v.CiLow, v.CiHigh, v.Verdict)), resumed.Versus.Select(v => (v.MeanDifference, v.CiLow, v.CiHigh, v.Verdict)));
    }

    [Fact]
    public void APartialRunFile_IsNeverReadAsFinished()
    {
        var dir = Path.Combine(_dir, "partial");
        var s = Tiny with { Seeds = new[] { 0 }, Arms = Tiny.Arms.Take(1).ToArray() };
        ComparisonRunner.Run(s, dir);
        var store = new ResultStore(dir);
        var path = store.RunPath("adamd", 0);
        var lines = File.ReadAllLines(path);
        File.WriteAllLines(path, lines[..^1]);                      // as if cut before the end line
        Assert.Null(store.TryLoadRun("adamd", 0));
        File.WriteAllText(path, lines[0] + "\n{\"epoch\":1,\"train_lo"); // cut mid-line
        Assert.Null(store.TryLoadRun("adamd", 0));
        bool reused = true;
        ComparisonRunner.Run(s, dir, runDone: (_, r) => reused = r);
        Assert.False(reused);
        Assert.NotNull(store.TryLoadRun("adamd", 0));
    }

    [Fact]
    public void ARestartWithOtherSettings_IsRefused_NamingTheDifference()
    {
        var dir = Path.Combine(_dir, "settings");
        var s = Tiny with { Seeds = new[] { 0 }, Epochs = 1 };
        ComparisonRunner.Run(s, dir);
        var e = Assert.Throws<InvalidOperationException>(() => ComparisonRunner.Run(s with { Epochs = 2 }, dir));
        Assert.Contains("epochs", e.Message);
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void ADivergingArm_IsRecorded_AndTheComparisonGoesOn()
    {
        var s = Tiny with { Seeds = new[] { 0, 1 }, Arms = new[] { Tiny.Arms[0], new ArmSpec("wild", "sgd:lr=1e12,momentum=0.9") } };
        var summary = ComparisonRunner.Run(s, Path.Combine(_dir, "diverge"));
        var wild = summary.Arms.Single(a => a.Arm == "wild");
        Assert.Equal(2, wild.Divergences);
        var v = summary.Versus.Single();
        Assert.Equal(2, v.Pairs);                                  // diverged runs stay in their pairs
        Assert.Equal(new[] { 10.0, 10.0 }, wild.FinalBySeed);      // at chance accuracy (10 classes)
        Assert.StartsWith("inconclusive", v.Verdict);              // two seeds cannot decide anything
        Assert.StartsWith("no: diverged more often (2 vs 0)", v.NonInferiorText);
        Assert.Equal(0, summary.Arms.Single(a => a.Arm == "adamd").Divergences);
        var run = new ResultStore(Path.Combine(_dir, "diverge")).TryLoadRun("wild", 0)!;
        Assert.True(run.Diverged);
        Assert.Equal(1, run.DivergedAtEpoch);
    }

    [Fact]
    public void SummaryFiles_AgreeWithTheRuns()
    {
        var dir = Path.Combine(_dir, "files");
        var summary = ComparisonRunner.Run(Tiny, dir);
        var json = ComparisonSummary.FromJson(File.ReadAllText(Path.Combine(dir, "summary.json")));
        Assert.Equal(summary.Arms.Select(a => a.FinalMean), json.Arms.Select(a => a.FinalMean));
        var csv = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        Assert.Equal(3, csv.Length);
        Assert.StartsWith("adamd,adamd:lr=1e-3,\"lr=0.001, weight_decay=5e-4 (preconditioned), eps=1e-8\",3,0,", csv[1]);
        var store = new ResultStore(dir);
        var runs = Tiny.Seeds.Select(seed => store.TryLoadRun("adamw", seed)!).ToArray();
        Assert.Equal(runs.Select(r => r.FinalTestMetric).Average(), summary.Arms[1].FinalMean, 10);
    }

    [Fact]
    public void BadSettings_AreRejectedWithTheirName()
    {
        Assert.Contains("epochs", Assert.ThrowsAny<ArgumentException>(() => (Tiny with { Epochs = 0 }).Validate()).Message);
        Assert.Contains("baseline", Assert.ThrowsAny<ArgumentException>(() => (Tiny with { Baseline = "lion" }).Validate()).Message);
        Assert.Contains("adamx", Assert.ThrowsAny<ArgumentException>(() => (Tiny with { Arms = new[] { new ArmSpec("x", "adamx:lr=1") } }).Validate()).Message);
        Assert.Contains("twice", Assert.ThrowsAny<ArgumentException>(() => (Tiny with { Arms = new[] { Tiny.Arms[0], Tiny.Arms[0] } }).Validate()).Message);
    }
}

public class ProtocolTests
{
    [Fact]
    public void FmnistMlp_IsTheDocumentedExperiment()
    {
        var s = Protocols.Get("fmnist-mlp");
        Assert.Equal("fashion-mnist", s.Task);
        Assert.Equal("mlp", s.Model);
        Assert.Equal(10, s.Epochs);
        Assert.Equal(128, s.BatchSize);
        Assert.Equal(new[] { 8 }, s.Schedule.Milestones); // ×0.1 from epoch 9 on
        Assert.Equal(0.1, s.Schedule.Gamma);
        Assert.False(s.Augment);
        Assert.Null(s.TrainSubset);
        Assert.Equal(new[] { "adam:lr=1e-3,weight_decay=5e-4", "adamw:lr=1e-3,weight_decay=1e-2", "adamd:lr=1e-3,weight_decay=5e-4", "sgd:lr=0.05,momentum=0.9,weight_decay=5e-4" },
            s.Arms.Select(a => a.Optimizer));
        Assert.Equal(new[] { 0.2860f }, Transforms.FashionMnistMean);
        Assert.Equal(new[] { 0.3530f }, Transforms.FashionMnistStd);
    }

    [Fact]
    public void QuickScale_ShrinksButKeepsTheArms()
    {
        var q = Protocols.Get("fmnist-mlp", "quick");
        var full = Protocols.Get("fmnist-mlp");
        Assert.True(q.Epochs < full.Epochs);
        Assert.NotNull(q.TrainSubset);
        Assert.Equal(full.Arms, q.Arms);
        Assert.True(q.Schedule.Milestones![0] < q.Epochs);
        Assert.Throws<ArgumentException>(() => Protocols.Get("fmnist-mlp", "huge"));
        Assert.Throws<ArgumentException>(() => Protocols.Get("imagenet"));
    }

    [Fact]
    public void ArmSpecs_ParseWithAndWithoutLabels()
    {
        Assert.Equal(new ArmSpec("adamd", "adamd:lr=1e-3"), ExperimentSettings.ParseArm("adamd:lr=1e-3"));
        Assert.Equal(new ArmSpec("fast", "adamd:lr=1e-2"), ExperimentSettings.ParseArm("fast=adamd:lr=1e-2"));
        Assert.Equal(new ArmSpec("sgd", "sgd"), ExperimentSettings.ParseArm("sgd"));
    }
}

using static AdamFamily.Lab.Tests.LanguageModelRuns;
using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Models;
using AdamFamily.Lab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

[Collection(TorchRngCollection.Name)]
public class LanguageModelTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static readonly string[] Pattern = { "the cat sat on the mat", "a dog ran", "birds sing loud songs" };

    /// <summary>A text of <paramref name="lines"/> lines cycling through three sentences (13 words with &lt;eos&gt;, &lt;unk&gt;).</summary>
    internal static string RepeatingText(TempDir dir, int lines = 400)
    {
        var path = dir.File("pattern.txt");
        File.WriteAllLines(path, Enumerable.Range(0, lines).Select(i => Pattern[i % Pattern.Length]));
        return path;
    }

    internal static ExperimentSettings Tiny(string dataPath) => new()
    {
        Protocol = "test-lm",
        Task = "text",
        DataPath = dataPath,
        Model = "lstm",
        Epochs = 3,
        BatchSize = 4,
        Seeds = new[] { 0, 1, 2 },
        ClipGradNorm = 0.25,
        Lm = new LanguageModelSettings { Embedding = 16, Hidden = 32, Layers = 1, Dropout = 0, Bptt = 10, EvalBatchSize = 2 },
        Arms = new[] { new ArmSpec("adam", "adam:lr=2e-2") },
    };

    private static EpochMetrics WithoutTimes(EpochMetrics e) => e with { Seconds = 0, OptimizerSeconds = 0 };

    [Fact]
    public void ATinyModel_LearnsARepeatingText_ThroughTheRealTrainer()
    {
        using var corpus = CorpusReader.LoadText(RepeatingText(_dir));
        Assert.Equal(14, corpus.Vocab.Count);
        var s = Tiny("") with { Schedule = new ScheduleSpec("multistep", new[] { 2 }, 0.1) };
        var run = LmRun(corpus, s, s.Arms[0], seed: 0);

        Assert.False(run.Diverged);
        Assert.Equal(3, run.Epochs.Count);
        var first = run.Epochs[0];
        var last = run.Epochs[^1];
        Assert.True(last.TestMetric < 1.5, $"test perplexity {last.TestMetric} (14 words: uniform guessing is 14)");
        Assert.True(last.ValidMetric < 1.5, $"valid perplexity {last.ValidMetric}");
        Assert.True(first.TrainMetric > last.TrainMetric);
        Assert.Equal(Math.Exp(last.TrainLoss), last.TrainMetric, 9);
        Assert.Equal(Math.Exp(last.TestLoss), last.TestMetric, 9);
        Assert.Equal(2e-3, last.LearningRate, 12); // the multistep schedule reached the optimizer
        Assert.True(double.IsFinite(last.Stationarity) && last.Stationarity > 0, $"stationarity {string.Join(",", run.Epochs.Select(e => e.Stationarity))}");
        // Times are measured, so only their consistency is asserted (a coarse clock may read 0 for a short span).
        Assert.True(double.IsFinite(last.Seconds) && last.Seconds >= 0, $"epoch time {last.Seconds}");
        Assert.True(last.OptimizerSeconds >= 0 && last.OptimizerSeconds <= last.Seconds, $"optimizer {last.OptimizerSeconds} s of {last.Seconds} s");
    }

    [Fact]
    public void TheSameSeed_GivesTheSameRun_DropoutIncluded_AndArmsStartFromTheSameWeights()
    {
        using var corpus = CorpusReader.LoadText(RepeatingText(_dir, 120));
        var s = Tiny("") with { Epochs = 2, Lm = Tiny("").Lm! with { Dropout = 0.3, Layers = 2 } };
        double[] Weights(LstmLanguageModel m) => m.DistinctParameters().SelectMany(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();
        double[] w0 = [], w1 = [], w2 = [];
        var a = LmRun(corpus, s, s.Arms[0], 1, observer: new(m => w0 = Weights(m)));
        var b = LmRun(corpus, s, s.Arms[0], 1);
        var sgd = LmRun(corpus, s, new ArmSpec("sgd", "sgd:lr=0.5"), 1, observer: new(m => w1 = Weights(m)));
        var other = LmRun(corpus, s, s.Arms[0], 2, observer: new(m => w2 = Weights(m)));
        Assert.Equal(a.Epochs.Select(WithoutTimes), b.Epochs.Select(WithoutTimes));
        Assert.Equal(w0, w1);
        Assert.NotEqual(w0, w2);
        Assert.NotEqual(a.Epochs[^1].TestMetric, other.Epochs[^1].TestMetric);
        Assert.NotEqual(a.Epochs[^1].TestMetric, sgd.Epochs[^1].TestMetric);
    }

    [Fact]
    public void TiedWeights_ShareOneTensor_ThroughTraining()
    {
        using var model = LstmLanguageModel.Create(50, 16, 16, 2, 0.1, tiedWeights: true, seed: 3);
        Assert.Same(model.EncoderWeight, model.Decoder.weight);
        Assert.Equal(model.parameters().Count(), model.DistinctParameters().Length); // the shared matrix once
        using var untied = LstmLanguageModel.Create(50, 16, 16, 2, 0.1, tiedWeights: false, seed: 3);
        Assert.Equal(untied.DistinctParameters().Length - 1, model.DistinctParameters().Length);
        Assert.Equal(0.0, model.Decoder.bias!.abs().max().item<float>());
        Assert.True(model.EncoderWeight.abs().max().item<float>() <= 0.1f);

        using var corpus = CorpusReader.LoadText(RepeatingText(_dir, 120));
        var s = Tiny("") with { Epochs = 1, Lm = Tiny("").Lm! with { Embedding = 16, Hidden = 16, TiedWeights = true } };
        LstmLanguageModel? trained = null;
        bool checkedTie = false;
        var run = LmRun(corpus, s, s.Arms[0], 0, observer: new(
            ModelCreated: m => trained = m,
            WindowDone: (_, w) =>
            {
                if (w != 2) return;
                Assert.Same(trained!.EncoderWeight, trained.Decoder.weight);
                Assert.NotNull(trained.EncoderWeight.grad); // the decoder's gradient lands in the one tensor
                checkedTie = true;
            }));
        Assert.True(checkedTie);
        Assert.False(run.Diverged);
    }

    [Fact]
    public void TiedWeights_OfDifferentSizes_AreAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => new LstmLanguageModel(100, 8, 16, 1, 0, tiedWeights: true));
        Assert.Contains("embedding size == hidden size", e.Message);
        Assert.Contains("embedding 8, hidden 16", e.Message);
        var s = Tiny(RepeatingText(_dir)) with { Lm = new LanguageModelSettings { Embedding = 8, Hidden = 16, TiedWeights = true } };
        Assert.Contains("tied", Assert.ThrowsAny<ArgumentException>(() => s.Validate()).Message);
        Assert.Contains("model must be lstm", Assert.ThrowsAny<ArgumentException>(() => (Tiny("x") with { Model = "mlp" }).Validate()).Message);
        Assert.Contains("bptt", Assert.ThrowsAny<ArgumentException>(() => (Tiny("x") with { Lm = new LanguageModelSettings { Bptt = 0 } }).Validate()).Message);
    }

    [Fact]
    public void Tbptt_DetachesTheCarriedState_SoMemoryStaysFlat()
    {
        using var corpus = CorpusReader.LoadText(RepeatingText(_dir));
        // about 1700 training tokens in 4 streams, windows of 5 steps: about 85 windows.
        var s = Tiny("") with { Epochs = 1, Lm = Tiny("").Lm! with { Bptt = 5, Dropout = 0.2, Layers = 2 } };
        var live = new Dictionary<int, long>();
        int starts = 0;
        LmRun(corpus, s, s.Arms[0], 0, observer: new(
            WindowStart: (_, w, state) =>
            {
                starts++;
                if (w == 0) { Assert.Null(state); return; }
                var (h, c) = state!.Value;
                Assert.False(h.requires_grad); // no graph reaches back into the previous window
                Assert.False(c.requires_grad);
                Assert.Equal(new long[] { 2, 4, 32 }, h.shape);
            },
            WindowDone: (_, w) => live[w] = DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        long windows = (corpus.Train.shape[0] / 4 - 1 + 4) / 5;
        Assert.True(windows > 60, $"{windows} windows");
        Assert.Equal(windows, starts);
        Assert.Equal(live[5], live[50]);
        Assert.Equal(live[5], live[(int)windows - 1]);
    }

    [Fact]
    public void Batchify_MakesParallelColumns_AndRefusesTooFewTokens()
    {
        using var corpus = CorpusReader.LoadText(RepeatingText(_dir));
        using var scope = NewDisposeScope();
        using var stream = arange(0L, 23L);
        var b = LanguageModelingTask.Batchify(corpus, stream, "train", null, 4, CPU);
        Assert.Equal(new long[] { 5, 4 }, b.shape);                   // 23 tokens → 4 columns of 5, 3 dropped
        Assert.Equal(new long[] { 0, 5, 10, 15 }, b[0].data<long>().ToArray());
        Assert.Equal(new long[] { 1, 6, 11, 16 }, b[1].data<long>().ToArray()); // a column is a contiguous stretch of text
        Assert.Equal(new long[] { 3, 4 }, LanguageModelingTask.Batchify(corpus, stream, "train", 12, 4, CPU).shape);
        var e = Assert.Throws<InvalidDataException>(() => LanguageModelingTask.Batchify(corpus, stream, "valid", 7, 4, CPU));
        Assert.Contains("valid", e.Message);
        Assert.Contains("7 tokens", e.Message);
    }

    [Fact]
    public void ADivergingArm_IsRecordedAsDiverged()
    {
        using var corpus = CorpusReader.LoadText(RepeatingText(_dir, 120));
        var s = Tiny("") with { ClipGradNorm = null, Epochs = 2 };
        var run = LmRun(corpus, s, new ArmSpec("wild", "sgd:lr=1e12"), 0);
        Assert.True(run.Diverged);
        Assert.Equal(1, run.DivergedAtEpoch);
        Assert.True(double.IsNaN(run.FinalTestMetric));
    }

    [Fact]
    public void AComparisonOnText_IsJudgedByTestPerplexity_LowerIsBetter()
    {
        var s = Tiny(RepeatingText(_dir, 200)) with
        {
            Epochs = 2,
            Seeds = new[] { 0, 1, 2, 3, 4, 5 }, // the exact test needs 6 seeds to say "better" (smallest p 2/2^6)
            Arms = new[] { new ArmSpec("slow", "sgd:lr=1e-3"), new ArmSpec("adam", "adam:lr=2e-2") },
        };
        var outDir = Path.Combine(_dir.Path, "out");
        var summary = ComparisonRunner.Run(s, outDir);

        Assert.Equal("test perplexity", summary.Settings.MetricName);
        Assert.False(summary.Settings.HigherIsBetter);
        var slow = summary.Arms.Single(a => a.Arm == "slow");
        var adam = summary.Arms.Single(a => a.Arm == "adam");
        Assert.True(adam.FinalMean < slow.FinalMean / 2, $"adam {adam.FinalMean}, slow sgd {slow.FinalMean}");
        var v = summary.Versus.Single();
        Assert.Equal("adam", v.Arm);
        Assert.Equal("better", v.Verdict);
        Assert.True(v.MeanDifference < 0);

        var run = new ResultStore(outDir).TryLoadRun("adam", 1)!;
        Assert.True(run.Epochs[^1].ValidMetric < 13); // the validation perplexity is stored with the run
        Assert.Contains("\"lm\"", File.ReadAllText(Path.Combine(outDir, "experiment.json")));
        Assert.Equal(s.Lm, ExperimentSettings.FromJson(File.ReadAllText(Path.Combine(outDir, "experiment.json")), "x").Lm);
    }

    [Fact]
    public void TaskLoader_LoadsTheLanguageModelTasks_AndSaysWhereMissingFilesGo()
    {
        var text = RepeatingText(_dir, 50);
        using (var t = TaskLoader.Load(Tiny(text)))
            Assert.IsType<LanguageModelingTask>(t);
        Assert.True(TaskLoader.IsAvailable(Tiny(text)));

        var ptb = Tiny("") with { Task = "ptb", DataPath = _dir.Path };
        Assert.False(TaskLoader.IsAvailable(ptb));
        var e = Assert.Throws<FileNotFoundException>(() => TaskLoader.Load(ptb));
        Assert.Contains(_dir.Path, e.Message);
        Assert.Contains("ptb.train.txt", e.Message);
        Assert.Contains("ptb needs --data", Assert.Throws<ArgumentException>(() => TaskLoader.Load(ptb with { DataPath = null })).Message);
    }

    [Fact]
    public void TheCli_RunsATextComparison_WithTheLanguageModelFlags()
    {
        var text = RepeatingText(_dir, 120);
        var outDir = Path.Combine(_dir.Path, "cli");
        var (code, output) = CliEndToEndTests.Afm("compare", "--task", "text", "--data", text, "--arm", "adam:lr=2e-2", "--arm", "adamd:lr=2e-2",
            "--seeds", "2", "--epochs", "1", "--batch-size", "4", "--layers", "1", "--hidden", "16", "--embedding", "16", "--tied", "true",
            "--dropout", "0", "--bptt", "8", "--max-vocab", "8", "--out", outDir);
        Assert.True(code == 0, output);
        Assert.Contains("test perplexity", output);
        Assert.Contains("lower is better", output);
        var stored = ExperimentSettings.FromJson(File.ReadAllText(Path.Combine(outDir, "experiment.json")), "x");
        Assert.Equal("lstm", stored.Model);
        Assert.Equal(new LanguageModelSettings { Layers = 1, Hidden = 16, Embedding = 16, TiedWeights = true, Dropout = 0, Bptt = 8, MaxVocab = 8 }, stored.Lm);

        var wrong = CliEndToEndTests.Afm("compare", "--task", "synthetic", "--arm", "adam", "--bptt", "8", "--out", Path.Combine(_dir.Path, "wrong"));
        Assert.Equal(2, wrong.Code);
        Assert.Contains("--bptt applies to the language-modelling tasks", wrong.Output);
    }
}

using static AdamFamily.Lab.Tests.LanguageModelRuns;
using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Models;
using AdamFamily.Lab.Theory;
using AdamFamily.Lab.Training;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests.Hardening;

/// <summary>Issue #9 §3: the fidelity fixes, each checked against an independent computation.</summary>
[Collection(TorchRngCollection.Name)]
public class FidelityTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void RandomCrop_OnNormalisedImages_PadsBlack_AsTorchvisionDoes()
    {
        // torchvision: RandomCrop(32, padding=4) pads the raw image with 0 (black), then Normalize. Here the inputs are
        // already normalised, so the pad value must be (0 − mean)/std per channel. Independent path: pad raw with zeros,
        // crop by the same offsets (slicing), normalise.
        var mean = Transforms.Cifar10Mean;
        var std = Transforms.Cifar10Std;
        using var raw = rand(3, 3, 8, 8);
        int pad = 3;
        var top = new[] { 0, 6, 2 };
        var left = new[] { 6, 0, 3 };
        using var padded = nn.functional.pad(raw, new long[] { pad, pad, pad, pad });
        var expected = cat(Enumerable.Range(0, 3).Select(i => padded[i].narrow(1, top[i], 8).narrow(2, left[i], 8).unsqueeze(0)).ToArray(), 0);
        expected = Transforms.Normalize(expected, mean, std);

        using var normalised = Transforms.Normalize(raw, mean, std);
        var fill = Transforms.BlackAfterNormalisation(mean, std);
        for (int c = 0; c < 3; c++) Assert.Equal((0 - mean[c]) / std[c], fill[c], 6);
        using var got = Transforms.Crop(normalised, pad, top, left, fill);
        Assert.True(allclose(got, expected, 1e-5, 1e-6), "crop of normalised inputs with the black fill = normalise(crop of raw zero-padded)");

        // The old behaviour (zero padding after normalisation = padding with the channel mean) is not what torchvision does.
        using var meanPadded = Transforms.Crop(normalised, pad, top, left);
        Assert.False(allclose(meanPadded, expected, 1e-5, 1e-6));
    }

    [Fact]
    public void NormalisedImageTasks_CarryTheirBlackPixel_ForTheTrainersCrop()
    {
        var dir = Path.Combine(_dir.Path, "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        var pixels = new[] { TestFiles.Bytes(3072, 1), TestFiles.Bytes(3072, 2) };
        foreach (var f in new[] { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" })
            File.WriteAllBytes(Path.Combine(dir, f), TestFiles.Cifar10(new byte[] { 1, 2 }, pixels));
        using var task = TaskLoader.LoadImages(new ExperimentSettings { Task = "cifar10", DataPath = _dir.Path, Validation = 0 });
        Assert.NotNull(task.BlackPixel);
        for (int c = 0; c < 3; c++) Assert.Equal(-Transforms.Cifar10Mean[c] / Transforms.Cifar10Std[c], task.BlackPixel![c], 6);
    }

    [Fact]
    public void LanguageModels_DoNotDecayTheEmbeddingOrBiases()
    {
        // "zeta" is in the vocabulary but beyond the training subset: its embedding row gets no gradient, so with the
        // embedding in the no-decay group it must come out of training bit-identical; a decayed embedding would shrink
        // by (1 − η·σ) per step under AdamW.
        var path = _dir.File("text.txt");
        File.WriteAllLines(path, Enumerable.Repeat("a b c d e", 40).Append("zeta").Concat(Enumerable.Repeat("a b c d e", 10)));
        using var corpus = CorpusReader.LoadText(path);
        int zeta = corpus.Vocab.IdOf("zeta");
        Assert.NotEqual(corpus.Vocab.UnkId, zeta);
        var s = new ExperimentSettings
        {
            Task = "text", Model = "lstm", Epochs = 1, BatchSize = 4, TrainSubset = 200, Seeds = new[] { 0 },
            Lm = new LanguageModelSettings { Embedding = 8, Hidden = 8, Layers = 1, Dropout = 0, Bptt = 10, EvalBatchSize = 2 },
            Arms = new[] { new ArmSpec("adamw", "adamw:lr=1e-2,weight_decay=0.5") },
        };
        LstmLanguageModel? model = null;
        double[]? before = null, after = null, lstmBefore = null, lstmAfter = null;
        double[] Row(LstmLanguageModel m) => m.EncoderWeight[zeta].detach().to_type(ScalarType.Float64).data<double>().ToArray();
        double[] Lstm(LstmLanguageModel m) => m.Rnn.parameters().First().detach().to_type(ScalarType.Float64).data<double>().ToArray();
        var run = LmRun(corpus, s, s.Arms[0], 0, observer: new(
            ModelCreated: m => { model = m; before = Row(m); lstmBefore = Lstm(m); },
            WindowDone: (_, _) => { after = Row(model!); lstmAfter = Lstm(model!); }));
        Assert.False(run.Diverged);
        Assert.Equal(before, after);
        Assert.NotEqual(lstmBefore, lstmAfter);

        using var untied = new LstmLanguageModel(20, 6, 8, 2, 0, false);
        var groups = untied.DecayGroups();
        var decayed = groups[0].Parameters.ToList();
        var exempt = groups[1].Parameters.ToList();
        Assert.Null(groups[0].Options.WeightDecay);   // inherits the arm's weight_decay
        Assert.Equal(0, groups[1].Options.WeightDecay);
        Assert.Contains(untied.EncoderWeight, exempt);
        Assert.Contains(untied.Decoder.weight!, decayed);
        Assert.All(decayed, p => Assert.Equal(2, p.dim()));
        Assert.All(exempt.Where(p => !ReferenceEquals(p, untied.EncoderWeight)), p => Assert.Equal(1, p.dim()));
        Assert.Equal(untied.DistinctParameters().Length, decayed.Count + exempt.Count);

        using var tied = new LstmLanguageModel(20, 8, 8, 1, 0, true);
        var tg = tied.DecayGroups();
        Assert.DoesNotContain(tied.EncoderWeight, tg[0].Parameters);     // the tied decoder weight is the embedding: not decayed, listed once
        Assert.Equal(tied.DistinctParameters().Length, tg[0].Parameters.Count() + tg[1].Parameters.Count());
    }

    [Fact]
    public void Toy_MeasuresTheDistanceToTheRegularisedMinimiser_ToO()
    {
        // Rosenbrock + (σ/2)‖x‖² with σ = 0.1: its minimiser by Newton's method on the gradient, written out here.
        double sigma = 0.1, x = 1, y = 1;
        for (int i = 0; i < 50; i++)
        {
            double gx = -2 * (1 - x) - 400 * x * (y - x * x) + sigma * x, gy = 200 * (y - x * x) + sigma * y;
            double hxx = 2 - 400 * (y - 3 * x * x) + sigma, hxy = -400 * x, hyy = 200 + sigma;
            double det = hxx * hyy - hxy * hxy;
            x -= (hyy * gx - hxy * gy) / det;
            y -= (-hxy * gx + hxx * gy) / det;
        }
        var (mx, my) = Toy.RegularisedMinimiser(ToyFunction.Get("rosenbrock"), sigma);
        Assert.Equal(x, mx, 5);
        Assert.Equal(y, my, 5);
        Assert.True(Math.Abs(x - 1) > 0.05, "the regularised minimiser is not f's: the label matters");

        var r = Toy.Run(new ToySettings { Function = "rosenbrock", Optimizers = new[] { "adamw" }, Steps = 50, WeightDecay = sigma });
        var t = r.Trajectories[0];
        Assert.Equal(new[] { 1.0, 1.0 }, r.Minimum);
        Assert.Equal(Math.Sqrt((t.X[^1] - 1) * (t.X[^1] - 1) + (t.Y[^1] - 1) * (t.Y[^1] - 1)), t.DistanceToMinimum, 12);
        Assert.Equal(Math.Sqrt((t.X[^1] - x) * (t.X[^1] - x) + (t.Y[^1] - y) * (t.Y[^1] - y)), t.DistanceToRegularisedMinimum, 5);
    }
}

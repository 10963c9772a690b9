using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace AdamFamily.Tests;

public class LeakTests
{
    public static IEnumerable<object[]> AllPresets() => Presets.All.Select(p => new object[] { p.Name });

    /// <summary>200 steps leave the live-tensor count where it was after step 1, on both paths.</summary>
    [Theory]
    [MemberData(nameof(AllPresets))]
    public void TwoHundredSteps_LeaveNoTensorsBehind(string preset)
    {
        foreach (var path in new[] { ExecutionPath.Auto, ExecutionPath.TensorOps })
        {
            var ps = Fixture.Parameters();
            using var opt = Optimizers.Create(preset, ps, Fixture.OptionsFor(preset));
            opt.ExecutionPath = path;
            Fixture.SetGrads(ps, 0);
            opt.step();
            long after1 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (int k = 1; k < 200; k++) opt.step();
            Assert.Equal(after1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
    }

    [Fact]
    public void DiagnosticSteps_LeaveNoTensorsBehind()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamD(ps) { CollectDiagnostics = true };
        Fixture.SetGrads(ps, 0);
        opt.step();
        long after1 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int k = 1; k < 50; k++) opt.step();
        Assert.Equal(after1, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}

public class DiagnosticsTests
{
    [Fact]
    public void Diagnostics_AreComputedOnlyWhenAsked()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamD(ps);
        Fixture.Run(opt, ps, 0, 1);
        Assert.Null(opt.LastDiagnostics);
    }

    [Fact]
    public void StationarityUpdateNormAndDecay_MatchHandComputation()
    {
        // One AdamD step from m = v = 0: d = m̂ = g, v̂ = g², H = (g² + ε)^(−1/2).
        var x = new Parameter(tensor(new double[] { 1.0, -2.0, 0.5 }));
        var g = new double[] { 0.3, 0.0, -1.0 };
        x.grad = tensor(g);
        double lr = 1e-3, wd = 1e-2, eps = 1e-8;
        using var opt = new AdamD(new[] { x }, new AfmdwOptions { LearningRate = lr, WeightDecay = wd, Eps = eps }) { CollectDiagnostics = true };
        var x0 = new[] { 1.0, -2.0, 0.5 };
        opt.step();
        var d = opt.LastDiagnostics!;
        double stat = Math.Sqrt(x0.Select((xi, i) => Math.Pow(g[i] + wd * xi, 2)).Sum());
        double upd = Math.Sqrt(x0.Select((xi, i) => Math.Pow(lr * (g[i] + wd * xi) / Math.Sqrt(g[i] * g[i] + eps), 2)).Sum());
        Assert.Equal(stat, d.Stationarity, 10);
        Assert.Equal(upd, d.UpdateNorm, 10);
        Assert.Equal(lr * wd / Math.Sqrt(eps), d.MaxDecayFactor, 8); // the zero-gradient coordinate
        Assert.Equal(1, d.Step);
    }

    [Fact]
    public void DiagnosticSteps_GiveTheSameIterates()
    {
        var a = Fixture.Parameters(dtype: ScalarType.Float64); var b = Fixture.Clone(a);
        using var oa = new AdamD(a); using var ob = new AdamD(b) { CollectDiagnostics = true };
        Fixture.Run(oa, a, 0, 5); Fixture.Run(ob, b, 0, 5);
        var va = Fixture.Values(a); var vb = Fixture.Values(b);
        for (int i = 0; i < va.Length; i++) for (int j = 0; j < va[i].Length; j++) Assert.Equal(va[i][j], vb[i][j], 12);
    }
}

public class TrainingTests
{
    public static IEnumerable<object[]> AllPresets() => Presets.All.Select(p => new object[] { p.Name });

    /// <summary>3 epochs on a tiny synthetic classification problem: every preset at least halves the loss.</summary>
    [Theory]
    [MemberData(nameof(AllPresets))]
    public void ThreeEpochs_HalveTheLoss(string preset)
    {
        manual_seed(11);
        var gen = new Generator(5);
        var centers = randn(3, 8, generator: gen) * 2;
        var labels = randint(3, new long[] { 240 }, generator: gen);
        var inputs = centers.index_select(0, labels) + randn(240, 8, generator: gen) * 0.5;
        var model = Sequential(Linear(8, 16), ReLU(), Linear(16, 3));
        using var opt = Optimizers.Create(preset, model.parameters(), preset switch
        {
            "sgd" => "lr=0.05,momentum=0.9",
            "yogi" or "yogid" => "lr=2e-2",
            "radam" or "radamw" => "lr=3e-2",
            _ => "lr=1e-2",
        });
        double Loss() { using var _ = no_grad(); return functional.cross_entropy(model.call(inputs), labels).item<float>(); }
        double initial = Loss();
        for (int epoch = 0; epoch < 3; epoch++)
            for (int b = 0; b < 240; b += 12)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                var loss = functional.cross_entropy(model.call(inputs[b..(b + 12)]), labels[b..(b + 12)]);
                loss.backward();
                opt.step();
            }
        double final = Loss();
        Assert.True(final < initial / 2, $"{preset}: loss {initial:F4} → {final:F4}");
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

public class HyperParameterErrorTests
{
    [Theory]
    [InlineData("lr=-1", "lr")]
    [InlineData("beta1=1", "beta1")]
    [InlineData("betas=(0.9,1.5)", "beta2")]
    [InlineData("eps=-1e-8", "eps")]
    [InlineData("weight_decay=-0.1", "weight_decay")]
    [InlineData("initial_accumulator=-1", "initial_accumulator")]
    [InlineData("eps=0", "eps")]
    public void OutOfRange_ThrowsAtConstruction_NamingParameterAndValue(string spec, string name)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Optimizers.Create("adamd", Fixture.Parameters(), spec));
        Assert.Equal(name, e.ParamName);
        Assert.Contains(name + " = ", e.Message);
    }

    [Fact]
    public void SgdNesterovWithoutMomentum_IsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Optimizers.Create("sgd", Fixture.Parameters(), "nesterov=true"));
        Assert.Contains("momentum", e.Message);
    }

    [Fact]
    public void UnstablePreconditionedDecay_IsRefusedAtConstruction_WithWhatToLower()
    {
        // η·σ·ε^(−1/2) = 0.1·0.5·1e4 = 500 ≥ 1.
        var e = Assert.Throws<UnstableDecayException>(() => Optimizers.Create("adamd", Fixture.Parameters(), "lr=0.1,weight_decay=0.5"));
        Assert.Contains("lr", e.Message); Assert.Contains("weight_decay", e.Message); Assert.Contains("500", e.Message);
    }

    [Fact]
    public void StabilityBound_IsExact()
    {
        // ε = 1e-8 → ε^(−1/2) = 1e4; σ = 1e-2: the bound on η is 1e-2. Just below it the optimizer is built and steps.
        var ps = Fixture.Parameters();
        using (var ok = Optimizers.Create("adamd", ps, "lr=0.0099,weight_decay=1e-2"))
        {
            Fixture.Run(ok, ps, 0, 1);
            Assert.Equal(1, ok.StepCount);
        }
        Assert.Throws<UnstableDecayException>(() => Optimizers.Create("adamd", Fixture.Parameters(), "lr=0.01,weight_decay=1e-2"));
    }

    [Fact]
    public void UnstableLearningRateFromAScheduler_IsRefusedAtTheStep_AndChangesNothing()
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamd", ps, "lr=1e-3,weight_decay=1e-2");
        Fixture.Run(opt, ps, 0, 1);
        var before = Fixture.Values(ps);
        opt.Groups[0].LearningRate = 0.5; // as a warm-up scheduler might
        Fixture.SetGrads(ps, 1);
        Assert.Throws<UnstableDecayException>(() => opt.step());
        Assert.Equal(before, Fixture.Values(ps));
        Assert.Equal(1, opt.StateOf(ps[0]).Step);
        opt.StabilityCheck = false; // the user may switch it off on purpose
        opt.step();
        Assert.Equal(2, opt.StateOf(ps[0]).Step);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(-1e-3)]
    [InlineData(double.PositiveInfinity)]
    public void OutOfRangeLearningRateFromAScheduler_IsRefusedAtEveryStep_AndChangesNothing(double lr)
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamw", ps, "lr=1e-3");
        Fixture.Run(opt, ps, 0, 1);
        var before = Fixture.Values(ps);
        opt.Groups[0].LearningRate = lr;
        Fixture.SetGrads(ps, 1);
        for (int attempt = 0; attempt < 2; attempt++) // a refused rate is not remembered as checked
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => opt.step());
            Assert.Equal("lr", e.ParamName);
            Assert.Contains("group 0", e.Message);
        }
        Assert.Equal(before, Fixture.Values(ps));
        Assert.Equal(1, opt.StateOf(ps[0]).Step);
        opt.Groups[0].LearningRate = 1e-3;
        opt.step();
        Assert.Equal(2, opt.StateOf(ps[0]).Step);
    }

    [Fact]
    public void DecoupledDecay_HasNoSuchBound()
    {
        // η·σ·ε^(−1/2) = 500 refuses preconditioned decay; decoupled decay at the same η, σ is built, steps, and
        // shrinks a zero-gradient coordinate by exactly 1 − ησ = 0.95 (no overshoot).
        Assert.Throws<UnstableDecayException>(() => Optimizers.Create("afmdw", Fixture.Parameters(dtype: ScalarType.Float64), "lr=0.1,weight_decay=0.5"));
        var x = new Parameter(tensor(new double[] { 2.0, -3.0 }));
        using var opt = Optimizers.Create("afmdw", new[] { x }, "lr=0.1,weight_decay=0.5,decay=decoupled");
        x.grad = tensor(new double[] { 0.0, 0.0 });
        opt.step();
        Assert.Equal(new[] { 2.0 * 0.95, -3.0 * 0.95 }, x.data<double>().ToArray());
    }
}

public class NonFinitePolicyTests
{
    private static (AfmdwOptimizer opt, Parameter[] ps, double[][] before, Tensor[] state) Poisoned(NonFinitePolicy policy, string preset = "adamd")
    {
        var ps = Fixture.Parameters();
        var opt = Optimizers.Create(preset, new[] { new AfmdwOptimizer.ParamGroup(new[] { ("encoder.weight", ps[0]), ("encoder.bias", ps[1]) }) }, Fixture.OptionsFor(preset) is var s ? Optimizers.ParseSpec(s) : null!);
        opt.NonFinitePolicy = policy;
        Fixture.Run(opt, ps, 0, 2);
        var before = Fixture.Values(ps);
        var state = ps.Select(p => opt.StateOf(p).M!.clone()).ToArray();
        Fixture.SetGrads(ps, 2);
        using (var _ = no_grad()) ps[1].grad![2] = float.NaN;
        return (opt, ps, before, state);
    }

    [Theory]
    [InlineData(ExecutionPath.Auto)]
    [InlineData(ExecutionPath.TensorOps)]
    public void Throw_NamesTheParameter_BeforeAnythingIsModified(ExecutionPath path)
    {
        var (opt, ps, before, state) = Poisoned(NonFinitePolicy.Throw);
        using var _ = opt;
        opt.ExecutionPath = path;
        var e = Assert.Throws<NonFiniteGradientException>(() => opt.step());
        Assert.Contains("encoder.bias", e.Message);
        Assert.Equal(before, Fixture.Values(ps));
        for (int i = 0; i < ps.Length; i++) Assert.True(opt.StateOf(ps[i]).M!.allclose(state[i], 0, 0));
        Assert.All(ps, p => Assert.Equal(2, opt.StateOf(p).Step));
    }

    [Fact]
    public void Skip_SkipsTheWholeStep_AndCountsIt()
    {
        var (opt, ps, before, _) = Poisoned(NonFinitePolicy.Skip);
        using var _ = opt;
        opt.step();
        Assert.Equal(1, opt.SkippedSteps);
        Assert.Equal(before, Fixture.Values(ps));
        Assert.All(ps, p => Assert.Equal(2, opt.StateOf(p).Step));
        Fixture.SetGrads(ps, 3);
        opt.step();
        Assert.Equal(3, opt.StateOf(ps[0]).Step);
        Assert.Equal(1, opt.SkippedSteps);
    }

    [Fact]
    public void Propagate_AppliesTheStep_AsPyTorchDoes()
    {
        var (opt, ps, _, _) = Poisoned(NonFinitePolicy.Propagate);
        using var _ = opt;
        opt.step();
        Assert.True(float.IsNaN(ps[1][2].item<float>()));
        Assert.Equal(3, opt.StateOf(ps[0]).Step);
    }

    [Fact]
    public void Infinity_IsCaughtToo()
    {
        var ps = Fixture.Parameters(dtype: ScalarType.Float64);
        using var opt = new AdamD(ps);
        Fixture.SetGrads(ps, 0);
        using (var _ = no_grad()) ps[0].grad![1, 1] = double.NegativeInfinity;
        Assert.Throws<NonFiniteGradientException>(() => opt.step());
    }
}

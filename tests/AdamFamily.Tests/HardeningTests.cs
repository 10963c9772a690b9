using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// Issue #11's library classes: options changed after construction, duplicate parameters, gradient
/// shapes, half precision, the lr-tied schedule and the option-string grammar. Every test checks that a
/// refused step or load leaves parameters and state exactly as they were.
/// </summary>
public class HardeningTests
{
    private static double[][] StateValues(AfmdwOptimizer opt, Parameter[] ps)
        => ps.SelectMany(p => new[] { opt.StateOf(p).M, opt.StateOf(p).V })
             .Select(t => t is null ? Array.Empty<double>() : t.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();

    private static void AssertStepRefused<TException>(AfmdwOptimizer opt, Parameter[] ps, string mustName) where TException : Exception
    {
        var x = Fixture.Values(ps);
        var s = StateValues(opt, ps);
        long steps = opt.StepCount;
        var perParam = ps.Select(p => opt.StateOf(p).Step).ToArray();
        Fixture.SetGrads(ps, 99);
        var e = Assert.ThrowsAny<TException>(() => opt.step());
        Assert.Contains(mustName, e.Message);
        Assert.Equal(x, Fixture.Values(ps));
        Assert.Equal(s, StateValues(opt, ps));
        Assert.Equal(steps, opt.StepCount);
        Assert.Equal(perParam, ps.Select(p => opt.StateOf(p).Step).ToArray());
    }

    public static IEnumerable<object[]> BadChanges() => new[]
    {
        new object[] { "weight_decay", (Action<AfmdwOptions>)(o => o.WeightDecay = double.NaN) },
        new object[] { "eps", (Action<AfmdwOptions>)(o => o.Eps = 0) },
        new object[] { "eps", (Action<AfmdwOptions>)(o => o.Eps = -1e-8) },
        new object[] { "beta1", (Action<AfmdwOptions>)(o => o.Beta1 = 1.5) },
        new object[] { "beta2", (Action<AfmdwOptions>)(o => o.Beta2 = 1.0) },
        new object[] { "initial_accumulator", (Action<AfmdwOptions>)(o => o.InitialAccumulator = double.PositiveInfinity) },
        new object[] { "weight_decay", (Action<AfmdwOptions>)(o => o.WeightDecay = -1) },
        new object[] { "theta_schedule", (Action<AfmdwOptions>)(o => o.ThetaSchedule = Rules.MomentSchedule.Diminishing(-1, 0.5)) },
        new object[] { "decay", (Action<AfmdwOptions>)(o => o.Decay = (Rules.DecayPlacement)9) },
        new object[] { "estimator", (Action<AfmdwOptions>)(o => o.Estimator = "adamm") },
    };

    [Theory]
    [MemberData(nameof(BadChanges))]
    public void OptionsChangedAfterConstruction_AreRefusedAtTheNextStep_BeforeAnyWrite(string name, Action<AfmdwOptions> change)
    {
        foreach (var path in new[] { ExecutionPath.Auto, ExecutionPath.TensorOps })
        {
            var a = Fixture.Parameters(seed: 2);
            var b = Fixture.Parameters(seed: 3);
            using var opt = new AdamD(new[] { new AfmdwOptimizer.ParamGroup(a), new AfmdwOptimizer.ParamGroup(b) }, new AfmdwOptions { LearningRate = 1e-2 });
            opt.ExecutionPath = path;
            Fixture.Run(opt, a.Concat(b).ToArray(), 0, 2);
            // The second group is the bad one: the first group must not have been stepped either.
            change(opt.Groups[1].Options);
            AssertStepRefused<ArgumentException>(opt, a.Concat(b).ToArray(), name);
            Assert.Contains("group 1", Assert.ThrowsAny<ArgumentException>(() => opt.step()).Message);
        }
    }

    [Fact]
    public void BetasThroughIBetas_AreValidatedAtTheNextStep()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamD(ps, new AfmdwOptions { LearningRate = 1e-2 });
        Fixture.Run(opt, ps, 0, 1);
        ((TorchSharp.torch.optim.IBetas)opt.Groups[0]).Betas = (1.0, 0.999);
        AssertStepRefused<ArgumentException>(opt, ps, "beta1");
        // Corrected, the next step goes ahead.
        ((TorchSharp.torch.optim.IBetas)opt.Groups[0]).Betas = (0.9, 0.999);
        Fixture.SetGrads(ps, 5);
        opt.step();
        Assert.Equal(2, opt.StepCount);
    }

    [Fact]
    public void OptimizerLevelBetas_AreValidatedWhenSet()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamD(ps);
        var e = Assert.ThrowsAny<ArgumentException>(() => opt.Betas = (0.9, 1.0));
        Assert.Contains("beta2", e.Message);
        Assert.Equal((0.9, 0.999), opt.Betas);
    }

    [Fact]
    public void SameParameterTwiceInOneGroup_IsRefusedAtConstruction()
    {
        var ps = Fixture.Parameters();
        var e = Assert.ThrowsAny<ArgumentException>(() => new AdamD(new[] { ps[0], ps[1], ps[0] }));
        Assert.Contains("more than once", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => new AdamD(new[] { new AfmdwOptimizer.ParamGroup(new[] { ps[0] }), new AfmdwOptimizer.ParamGroup(new[] { ps[1], ps[0] }) }));
    }

    [Theory]
    [InlineData(ExecutionPath.Auto)]
    [InlineData(ExecutionPath.TensorOps)]
    public void GradientOfAnotherShape_IsRefusedBeforeAnyParameterChanges(ExecutionPath path)
    {
        var ps = Fixture.Parameters(1, ScalarType.Float32, new long[] { 4, 3 }, new long[] { 6 }, new long[] { 2, 3 });
        using var opt = new AdamD(ps, new AfmdwOptions { LearningRate = 1e-2 });
        opt.ExecutionPath = path;
        Fixture.Run(opt, ps, 0, 2);
        var x = Fixture.Values(ps);
        var s = StateValues(opt, ps);
        Fixture.SetGrads(ps, 5);
        ps[2].grad = randn(3, 2); // same element count, other shape
        var e = Assert.ThrowsAny<ArgumentException>(() => opt.step());
        Assert.Contains("[3,2]", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Equal(x, Fixture.Values(ps));
        Assert.Equal(s, StateValues(opt, ps));
        Assert.Equal(2, opt.StepCount);
        Assert.All(ps, p => Assert.Equal(2, opt.StateOf(p).Step));
        ps[1].grad = randn(5); // other element count
        ps[2].grad = randn(2, 3);
        Assert.ThrowsAny<ArgumentException>(() => opt.step());
        Assert.Equal(x, Fixture.Values(ps));
    }

    /// <summary>
    /// Half-precision parameters: ε = 1e-8 is 0 in float16 and ε^(−1/2) overflows, so a zero-gradient
    /// coordinate became NaN on the first step. The step now runs in float32 (state in float32) and is
    /// rounded once into the parameter; the reference here is the float32 optimizer on the same values,
    /// rounded to the half type after every step by the test itself.
    /// </summary>
    [Theory]
    [InlineData(ScalarType.Float16, "adamd")]
    [InlineData(ScalarType.BFloat16, "adamd")]
    [InlineData(ScalarType.Float16, "adam")]
    [InlineData(ScalarType.Float16, "yogid")]
    public void HalfPrecisionParameters_StepInFloat32_AndStayFinite(ScalarType half, string preset)
    {
        var init = new float[] { 0.5f, -0.25f, 1.5f, 0.75f, -2f, 0.125f };
        var half_ = new Parameter(tensor(init).to_type(half));
        var reference = new Parameter(half_.detach().to_type(ScalarType.Float32).clone());
        using var opt = Optimizers.Create(preset, new[] { half_ }, "lr=1e-2");
        using var refOpt = Optimizers.Create(preset, new[] { reference }, "lr=1e-2");
        Assert.Equal(ScalarType.Float32, opt.StateOf(half_).V!.dtype);
        var gen = new Generator(11);
        for (int k = 0; k < 5; k++)
        {
            var g = randn(6, generator: gen).to_type(half);
            g[1] = tensor(0f).to_type(half); // a zero-gradient coordinate every step
            half_.grad = g;
            reference.grad = g.to_type(ScalarType.Float32);
            opt.step();
            refOpt.step();
            using (no_grad()) reference.copy_(reference.to_type(half).to_type(ScalarType.Float32)); // the rounding the half parameter has
            var got = half_.detach().to_type(ScalarType.Float64).data<double>().ToArray();
            var want = reference.detach().to_type(ScalarType.Float64).data<double>().ToArray();
            Assert.All(got, v => Assert.True(double.IsFinite(v), $"step {k}: {string.Join(",", got)}"));
            Assert.Equal(want, got);
        }
        Assert.NotEqual(0.5, half_.detach().to_type(ScalarType.Float64).data<double>()[0]);
    }

    [Fact]
    public void LrTiedSchedule_KeepsBetaInRange_WhenTheLearningRateRises()
    {
        var p = new Parameter(tensor(new double[] { 1, -2, 3 }));
        using var opt = Optimizers.Create("afmdw", new[] { p }, "lr=1e-3,theta_schedule=lr-tied,tau_schedule=lr-tied,decay=decoupled,weight_decay=0");
        opt.Groups[0].LearningRate = 0.5; // 500× the initial lr: θ = 0.1·500 would be 50, β₁ = −49
        var g = new double[] { 0.5, -1, 2 };
        p.grad = tensor(g);
        opt.step();
        // θ = 0.1·500 is clamped to 1 (β₁ = 0): m = g and m̂ = m. τ = 0.001·500 = 0.5 is not: v = 0.5·g², v̂ = g².
        Assert.Equal(g, opt.StateOf(p).M!.data<double>().ToArray());
        var v = opt.StateOf(p).V!.data<double>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(0.5 * g[i] * g[i], v[i], 12);
        var expected = new double[] { 1, -2, 3 }.Zip(g, (x, gi) => x - 0.5 * gi / Math.Sqrt(gi * gi + 1e-8)).ToArray();
        var got = p.detach().data<double>().ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], got[i], 12);
    }

    [Fact]
    public void LrTiedSchedule_WarmUpFromZero_StaysFinite()
    {
        var p = new Parameter(tensor(new double[] { 1, -2, 3 }));
        using var opt = Optimizers.Create("afmdw", new[] { p }, "lr=1e-3,theta_schedule=lr-tied,tau_schedule=lr-tied");
        opt.Groups[0].LearningRate = 0; // linear warm-up from 0
        p.grad = tensor(new double[] { 0.5, -1, 2 });
        opt.step();
        Assert.Equal(new double[] { 1, -2, 3 }, p.detach().data<double>().ToArray());
        opt.Groups[0].LearningRate = 1e-3;
        opt.step();
        Assert.All(p.detach().data<double>().ToArray(), v => Assert.True(double.IsFinite(v)));
        // θ₀ at lr = η₀ after a θ = 0 step: m = 0.1·g, B₁ = 0.9, so m̂ = g; the step is lr·g/√(g²+ε)-ish.
        Assert.Equal(0.1 * 0.5, opt.StateOf(p).M!.data<double>()[0], 12);
    }

    [Theory]
    [InlineData("lr=0.5)", "lr", "0.5)")]
    [InlineData("lr=0.5,betas=(0.9,0.99", "betas", "(0.9,0.99")]
    [InlineData("betas=(0.9,0.99))", "betas", "(0.9,0.99))")]
    [InlineData("betas=(0.9,0.99]", "betas", "(0.9,0.99]")]
    [InlineData("lr=1e-2,lr=1e-3", "lr", "1e-3")]
    [InlineData("betas=(0.9,0.99),beta1=0.8", "beta1", "0.8")]
    [InlineData("lr=", "lr", "''")]
    [InlineData("lr=1e-2,,eps=1e-8", "", "empty")]
    [InlineData("=1", "", "=1")]
    [InlineData("lr=abc", "lr", "abc")]
    [InlineData("lr=1e-2 eps=1e-8", "lr", "1e-2 eps=1e-8")]
    [InlineData("momentum=0.9", "momentum", "0.9")]
    [InlineData("betas=(0.9)", "betas", "(0.9)")]
    [InlineData("lr=1e-2,", "", "empty")]
    [InlineData("maximize=maybe", "maximize", "maybe")]
    [InlineData("eps_mode=1", "eps_mode", "1")]
    [InlineData("theta_schedule=diminishing T=5 T=6", "theta_schedule", "given twice")]
    [InlineData("theta_schedule=diminishing p=inf", "theta_schedule", "p=inf")]
    [InlineData("theta_schedule=diminishing p=Infinity", "theta_schedule", "p must be a finite number")]
    [InlineData("lr=(1e-3)", "lr", "(1e-3)")]
    [InlineData("betas=((0.9,0.999))", "betas", "((0.9,0.999))")]
    [InlineData("nonfinite=2", "nonfinite", "2")]
    public void OptionStrings_HaveOneStrictGrammar(string spec, string key, string value)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Optimizers.Create("adamd", Fixture.Parameters(), spec));
        Assert.Contains(key, e.Message);
        Assert.Contains(value, e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Optimizers.ParseArm("adamd:" + spec).Options.ToList().ForEach(_ => { }));
    }

    [Fact]
    public void OptionStrings_StillReadWhatIsWellFormed()
    {
        using var opt = Optimizers.Create("adamd", Fixture.Parameters(), " lr = 2e-3 , betas=(0.8, 0.99), theta_schedule=diminishing T=5 p=0.7 ");
        var o = opt.Groups[0].Options;
        Assert.Equal(2e-3, opt.Groups[0].LearningRate);
        Assert.Equal(0.8, o.Beta1);
        Assert.Equal(0.99, o.Beta2);
        Assert.Equal(Rules.MomentSchedule.Diminishing(5, 0.7), o.ThetaSchedule);
        Assert.Empty(Optimizers.ParseSpec(""));
        Assert.Empty(Optimizers.ParseSpec("   "));
    }

    [Fact]
    public void GradientOfAnotherShape_IsRefused_OnThePublicApiFallbackToo()
    {
        var ps = Fixture.Parameters(1, ScalarType.Float32, new long[] { 4, 3 }, new long[] { 2, 3 });
        using var opt = new AdamD(ps, new AfmdwOptions { LearningRate = 1e-2 });
        Execution.NativeTensors.ForceFallbackOnThisThread = true;
        try
        {
            Fixture.SetGrads(ps, 1);
            var x = Fixture.Values(ps);
            ps[1].grad = randn(3, 2);
            Assert.Contains("[3,2]", Assert.ThrowsAny<ArgumentException>(() => opt.step()).Message);
            Assert.Equal(x, Fixture.Values(ps));
            Assert.Equal(0, opt.StepCount);
        }
        finally { Execution.NativeTensors.ForceFallbackOnThisThread = false; }
    }

    [Fact]
    public void HalfPrecisionState_RoundTripsThroughACheckpoint_AndContinuesExactly()
    {
        var dir = Directory.CreateTempSubdirectory("afm-half-").FullName;
        try
        {
            var straight = new Parameter(tensor(new float[] { 0.5f, -0.25f, 1.5f }).to_type(ScalarType.Float16));
            var resumed = new Parameter(straight.detach().clone());
            void Run(AfmdwOptimizer o, Parameter p, int from, int to)
            {
                for (int k = from; k < to; k++) { p.grad = tensor(new float[] { 0.1f * k, 0, -0.2f }).to_type(ScalarType.Float16); o.step(); }
            }
            using (var a = new AdamD(new[] { straight }, new AfmdwOptions { LearningRate = 1e-2 })) Run(a, straight, 0, 6);
            var path = Path.Combine(dir, "half.ckpt");
            using (var b = new AdamD(new[] { resumed }, new AfmdwOptions { LearningRate = 1e-2 })) { Run(b, resumed, 0, 3); b.SaveCheckpoint(path); }
            using (var c = new AdamD(new[] { resumed }, new AfmdwOptions { LearningRate = 1e-2 }))
            {
                c.LoadCheckpoint(path);
                Assert.Equal(ScalarType.Float32, c.StateOf(resumed).M!.dtype);
                Run(c, resumed, 3, 6);
            }
            Assert.Equal(straight.detach().to_type(ScalarType.Float32).data<float>().ToArray(), resumed.detach().to_type(ScalarType.Float32).data<float>().ToArray());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

public class SchedulerTests
{
    /// <summary>Runs 12 steps under a scheduler, and a twin with lr set by hand to what the scheduler reported; same result.</summary>
    private static void AssertSchedulerDrivesSteps(Func<AfmdwOptimizer, optim.lr_scheduler.LRScheduler> make, double[] expectedLrs)
    {
        var a = Fixture.Parameters(2);
        var b = Fixture.Clone(a);
        using var oa = new AdamD(a, new AfmdwOptions { LearningRate = 1e-2 });
        using var ob = new AdamD(b, new AfmdwOptions { LearningRate = 1e-2 });
        var sched = make(oa);
        for (int k = 0; k < expectedLrs.Length; k++)
        {
            Assert.Equal(expectedLrs[k], oa.Groups[0].LearningRate, 12);
            ob.Groups[0].LearningRate = expectedLrs[k];
            Fixture.SetGrads(a, k); oa.step();
            Fixture.SetGrads(b, k); ob.step();
            sched.step();
        }
        Assert.Equal(Fixture.Values(b), Fixture.Values(a));
    }

    [Fact]
    public void StepLR() => AssertSchedulerDrivesSteps(o => optim.lr_scheduler.StepLR(o, 4, 0.5),
        Enumerable.Range(0, 12).Select(k => 1e-2 * Math.Pow(0.5, k / 4)).ToArray());

    [Fact]
    public void MultiStepLR() => AssertSchedulerDrivesSteps(o => optim.lr_scheduler.MultiStepLR(o, new[] { 3, 8 }, 0.1),
        Enumerable.Range(0, 12).Select(k => 1e-2 * (k < 3 ? 1 : k < 8 ? 0.1 : 0.01)).ToArray());

    [Fact]
    public void CosineAnnealingLR() => AssertSchedulerDrivesSteps(o => optim.lr_scheduler.CosineAnnealingLR(o, 12, 0),
        Enumerable.Range(0, 12).Select(k => 1e-2 * (1 + Math.Cos(Math.PI * k / 12)) / 2).ToArray());

    [Fact]
    public void OneCycleLR_CyclesLearningRateAndBeta1()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamW(ps);
        var sched = optim.lr_scheduler.OneCycleLR(opt, max_lr: 1e-2, total_steps: 20);
        var lrs = new List<double>(); var beta1s = new List<double>();
        for (int k = 0; k < 20; k++)
        {
            lrs.Add(opt.Groups[0].LearningRate); beta1s.Add(opt.Groups[0].Betas.Item1);
            Fixture.SetGrads(ps, k); opt.step(); sched.step();
        }
        Assert.True(lrs.Max() > 5 * lrs[0], "OneCycle should warm the lr up");
        Assert.True(beta1s.Min() < beta1s[0], "OneCycle should cycle beta1 down through IBetas");
    }

    [Fact]
    public void LrTiedSchedule_FollowsTheScheduler()
    {
        // θ_t = θ₀·η_t/η₀ with a real MultiStepLR: before the ×0.1 drop m moves with θ = 0.1, after it with 0.01.
        var ps = Fixture.Parameters(dtype: ScalarType.Float64);
        using var opt = Optimizers.Create("afmdw", ps, "lr=1e-2,theta_schedule=lr-tied");
        var sched = optim.lr_scheduler.MultiStepLR(opt, new[] { 2 }, 0.1);
        for (int k = 0; k < 4; k++)
        {
            double theta = k < 2 ? 0.1 : 0.01;
            Fixture.SetGrads(ps, k);
            var m0 = opt.StateOf(ps[0]).M!.data<double>().ToArray();
            var g = ps[0].grad!.data<double>().ToArray();
            opt.step();
            var m1 = opt.StateOf(ps[0]).M!.data<double>().ToArray();
            for (int i = 0; i < m1.Length; i++) Assert.Equal((1 - theta) * m0[i] + theta * g[i], m1[i], 14);
            sched.step();
        }
    }
}

public class ParamGroupTests
{
    [Fact]
    public void Groups_InheritUnsetOptions_AndKeepTheirOwn()
    {
        var a = Fixture.Parameters(1); var b = Fixture.Parameters(2);
        using var opt = new AdamD(new[]
        {
            new AfmdwOptimizer.ParamGroup(a, new AfmdwOptions { LearningRate = 1e-2 }),
            new AfmdwOptimizer.ParamGroup(b, new AfmdwOptions { WeightDecay = 0 }),
        }, new AfmdwOptions { LearningRate = 3e-3, Beta1 = 0.8 });
        Assert.Equal(1e-2, opt.Groups[0].LearningRate);
        Assert.Equal(3e-3, opt.Groups[1].LearningRate);
        Assert.Equal(0.8, opt.Groups[0].Options.Beta1);
        Assert.Equal(0.8, opt.Groups[1].Options.Beta1);
        Assert.Equal(5e-4, opt.Groups[0].Options.WeightDecay);
        Assert.Equal(0.0, opt.Groups[1].Options.WeightDecay);
        Assert.Equal(1e-2, opt.Groups[0].InitialLearningRate);
    }

    [Fact]
    public void PerGroupOptions_AreUsedByTheStep()
    {
        // A group with lr 0 must not move; the other must.
        var a = Fixture.Parameters(1); var b = Fixture.Parameters(2);
        var a0 = Fixture.Values(a); var b0 = Fixture.Values(b);
        using var opt = new AdamW(new[] { new AfmdwOptimizer.ParamGroup(a, new AfmdwOptions { LearningRate = 0 }), new AfmdwOptimizer.ParamGroup(b) });
        Fixture.SetGrads(a, 0); Fixture.SetGrads(b, 0); opt.step();
        Assert.Equal(a0, Fixture.Values(a));
        Assert.NotEqual(b0, Fixture.Values(b));
    }

    [Fact]
    public void ParameterList_IsMaterialisedAtConstruction()
    {
        var ps = Fixture.Parameters();
        int enumerations = 0;
        IEnumerable<Parameter> Lazy() { enumerations++; foreach (var p in ps) yield return p; }
        using var opt = new AdamD(Lazy());
        Fixture.Run(opt, ps, 0, 3);
        opt.zero_grad();
        _ = opt.state_dict();
        Assert.Equal(1, enumerations);
    }

    [Fact]
    public void AParameterInTwoGroups_IsRejected()
    {
        var ps = Fixture.Parameters();
        var e = Assert.Throws<ArgumentException>(() => new AdamD(new[] { new AfmdwOptimizer.ParamGroup(ps), new AfmdwOptimizer.ParamGroup(ps.Take(1)) }));
        Assert.Contains("more than one group", e.Message);
    }

    [Fact]
    public void AddParamGroup_Later_GetsStateAndSteps()
    {
        var a = Fixture.Parameters(1); var b = Fixture.Parameters(2);
        using var opt = new AdamD(a);
        opt.add_param_group(new AfmdwOptimizer.ParamGroup(b, new AfmdwOptions { LearningRate = 1e-2 }));
        var b0 = Fixture.Values(b);
        Fixture.SetGrads(a, 0); Fixture.SetGrads(b, 0); opt.step();
        Assert.Equal(1, opt.StateOf(b[0]).Step);
        Assert.NotEqual(b0, Fixture.Values(b));
    }

    [Fact]
    public void ParametersWithoutGradient_AreSkipped_LikePyTorch()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamD(ps);
        Fixture.SetGrads(ps.Take(1).ToArray(), 0);
        var before = Fixture.Values(ps);
        opt.step();
        Assert.Equal(1, opt.StateOf(ps[0]).Step);
        Assert.Equal(0, opt.StateOf(ps[1]).Step);
        Assert.Equal(before[1], Fixture.Values(ps)[1]);
    }

    [Fact]
    public void ZeroGrad_ZeroesEveryGradient()
    {
        var ps = Fixture.Parameters();
        using var opt = new AdamD(ps);
        Fixture.SetGrads(ps, 0);
        opt.zero_grad();
        Assert.All(ps, p => Assert.Equal(0.0, p.grad!.abs().sum().item<float>()));
    }

    [Fact]
    public void Closure_IsEvaluatedWithGradients_AndItsLossReturned()
    {
        var w = new Parameter(tensor(new float[] { 1f, -2f }));
        using var opt = new SGD(new[] { w }, new AfmdwOptions { LearningRate = 0.1 });
        var loss = opt.step(() => { opt.zero_grad(); var l = (w * w).sum(); l.backward(); return l; });
        Assert.Equal(5f, loss.item<float>(), 5);
        Assert.Equal(new[] { 0.8f, -1.6f }, w.data<float>().ToArray());
    }

    [Fact]
    public void To_MovesEveryStateBuffer_ToTheDevice()
    {
        // The meta device exists on every build (no GPU needed): a real move, observable on each buffer.
        var ps = Fixture.Parameters();
        using var opt = new AMSGradD(ps);
        Fixture.Run(opt, ps, 0, 2);
        var meta = new Device(DeviceType.META);
        opt.to(meta);
        foreach (var p in ps)
        {
            var s = opt.StateOf(p);
            foreach (var t in new[] { s.M!, s.V!, s.VMax! })
            {
                Assert.Equal(DeviceType.META, t.device_type);
                Assert.Equal(p.shape, t.shape);
                Assert.Equal(p.dtype, t.dtype);
            }
            Assert.Equal(2, s.Step);
        }
    }

    [Fact]
    public void To_TheCurrentDevice_KeepsTheBuffers_AndTheTrajectory()
    {
        var a = Fixture.Parameters(dtype: ScalarType.Float64);
        var b = Fixture.Clone(a);
        using var oa = new AdamD(a);
        using var ob = new AdamD(b);
        Fixture.Run(oa, a, 0, 2); Fixture.Run(ob, b, 0, 2);
        var m = oa.StateOf(a[0]).M!;
        oa.to(CPU);
        Assert.Same(m, oa.StateOf(a[0]).M); // no copy when nothing moves
        Fixture.Run(oa, a, 2, 5); Fixture.Run(ob, b, 2, 5);
        Assert.Equal(Fixture.Values(b), Fixture.Values(a));
        Assert.Equal(5, oa.StateOf(a[0]).Step);
    }
}

public class MixedStepCountTests
{
    [Fact]
    public void ParametersOfOneGroupAtDifferentStepCounts_EachTakeTheirOwnBiasCorrection()
    {
        // a has a gradient at steps 1 and 2, b only at step 2: b's step must be a first step (its own bias
        // correction), exactly as an optimizer holding b alone would take it.
        var a = new Parameter(tensor(new double[] { 1.0, -2.0 }));
        var b = new Parameter(tensor(new double[] { 0.5, 3.0 }));
        var bAlone = new Parameter(tensor(new double[] { 0.5, 3.0 }));
        using var opt = new AdamW(new[] { a, b }, new AfmdwOptions { LearningRate = 0.1 });
        using var alone = new AdamW(new[] { bAlone }, new AfmdwOptions { LearningRate = 0.1 });
        a.grad = tensor(new double[] { 0.3, -0.1 });
        opt.step();
        a.grad = tensor(new double[] { 0.2, 0.4 });
        b.grad = tensor(new double[] { -0.5, 0.25 });
        bAlone.grad = tensor(new double[] { -0.5, 0.25 });
        opt.step();
        alone.step();
        Assert.Equal(2, opt.StateOf(a).Step);
        Assert.Equal(1, opt.StateOf(b).Step);
        Assert.Equal(bAlone.data<double>().ToArray(), b.data<double>().ToArray());
        // An Adam first step moves each coordinate by ≈ lr against its gradient's sign (decay aside): not a later step's size.
        Assert.Equal(0.5 * (1 - 0.1 * 1e-2) + 0.1, b.data<double>()[0], 6);
    }
}

using AdamFamily.Execution;
using Xunit.Abstractions;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>The clipping loop's norm spares the step its own check pass, for one step only, and only when finite.</summary>
public class GradientNormNoteTests
{
    private static (Parameter P, AfmdwOptimizer Opt) Make()
    {
        var p = new Parameter(torch.ones(1000));
        return (p, Optimizers.Create("adamw", new[] { p }, ""));
    }

    [Fact]
    public void FiniteNote_SkipsTheCheck_ForOneStepOnly()
    {
        using var scope = torch.NewDisposeScope();
        var (p, opt) = Make();
        using (opt)
        {
            using var bad = torch.ones(1000);
            bad[3] = torch.tensor(float.NaN);
            p.grad = bad;
            opt.NoteGradientNorm(12.5); // the caller vouches: no check pass (the NaN goes through, as under Propagate)
            opt.step();
            Assert.True(float.IsNaN(p.detach()[3].item<float>()));
            // The note was for that step: the next one checks again.
            Assert.Throws<NonFiniteGradientException>(() => opt.step());
        }
    }

    [Fact]
    public void NonFiniteNote_ChecksAsUsual_AndZeroGradDropsTheNote()
    {
        using var scope = torch.NewDisposeScope();
        var (p, opt) = Make();
        using (opt)
        {
            using var bad = torch.ones(1000);
            bad[999] = torch.tensor(float.PositiveInfinity);
            p.grad = bad;
            opt.NoteGradientNorm(double.NaN);
            Assert.Throws<NonFiniteGradientException>(() => opt.step());
            opt.NoteGradientNorm(1.0);
            opt.zero_grad();
            p.grad![999] = torch.tensor(float.PositiveInfinity);
            Assert.Throws<NonFiniteGradientException>(() => opt.step());
            Assert.True(p.detach().eq(1).all().item<bool>(), "refused steps changed the parameter");
        }
    }
}

/// <summary>Under NonFinitePolicy.Propagate a non-finite moment stays non-finite in int8 state on both paths (never healed into a finite code).</summary>
public class LowPrecisionNonFiniteTests
{
    [Theory]
    [InlineData(ExecutionPath.Auto)]
    [InlineData(ExecutionPath.TensorOps)]
    public void NaNGradient_UnderPropagate_LeavesNonFiniteState(ExecutionPath path)
    {
        using var scope = torch.NewDisposeScope();
        var p = new Parameter(torch.ones(600));
        using var opt = Optimizers.Create("adamw", new[] { p }, "state_precision=int8,nonfinite=propagate");
        opt.ExecutionPath = path;
        using var g = torch.ones(600);
        g[300] = torch.tensor(float.NaN);
        p.grad = g;
        opt.step();
        var s = opt.StateOf(p);
        using var m = AdamFamily.Execution.StateCodecTensors.Decode(s.M!, s.MScale, StatePrecision.Int8, true, torch.ScalarType.Float32);
        Assert.True(float.IsNaN(m[300].item<float>()), "the NaN moment was healed");
        Assert.True(float.IsNaN(s.MScale![1].item<float>()), "block 1's scale should be NaN");
        Assert.Equal(1f, m[0].item<float>() / 0.1f, 3); // block 0 is unaffected: m = (1 − β₁)·1
    }
}

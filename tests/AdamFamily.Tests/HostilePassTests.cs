using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// Regression tests from the second hostile pass over the public API (issue #11's classes): what used to be
/// silently accepted and computed wrongly, or ignored, is now refused before anything changes.
/// </summary>
public class HostilePassTests
{
    [Fact]
    public void ComplexParameters_AreRefusedAtConstruction_NotSteppedWithFrozenImaginaryParts()
    {
        // Was: accepted, and the imaginary parts never moved (v = g·g instead of |g|²), while PyTorch steps them.
        var complex = new Parameter(view_as_complex(tensor(new float[] { 1, 2, 3, -4 }).reshape(2, 2)));
        var e = Assert.Throws<ArgumentException>(() => Optimizers.Create("adam", new[] { complex }, "lr=0.1"));
        Assert.Contains("ComplexFloat32", e.Message);
        Assert.Contains("parameter 0", e.Message);
        var integer = new Parameter(zeros(3, dtype: ScalarType.Int32), requires_grad: false);
        Assert.Contains("Int32", Assert.Throws<ArgumentException>(() => new AdamD(new[] { integer }, new AfmdwOptions())).Message);
        // Real floating-point parameters of every supported width still construct.
        foreach (var t in new[] { ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64 })
            Optimizers.Create("adamd", new[] { new Parameter(zeros(3, dtype: t)) }, "").Dispose();
    }

    [Fact]
    public void WeightDecay_WithDecayNone_IsRefused_WhenBothAreGiven()
    {
        // Was: "decay=none,weight_decay=1" trained with no decay at all and described σ = 1.
        var e = Assert.Throws<ArgumentException>(() => Optimizers.Create("afmdw", Fixture.Parameters(), "decay=none,weight_decay=1"));
        Assert.Contains("weight_decay", e.Message);
        Assert.Contains("decay=none", e.Message);
        Assert.Throws<ArgumentException>(() => Optimizers.ParseArm("afmdw:weight_decay=0.1,decay=none"));
        // decay=none alone (the preset's σ is then unused) and an explicit zero are fine.
        Optimizers.Create("afmdw", Fixture.Parameters(), "decay=none").Dispose();
        Optimizers.Create("afmdw", Fixture.Parameters(), "decay=none,weight_decay=0").Dispose();
    }

    [Fact]
    public void LoadCheckpoint_OfAFolder_SaysSo_AndChangesNothing()
    {
        var dir = Directory.CreateTempSubdirectory("afm-hostile-").FullName;
        try
        {
            var ps = Fixture.Parameters(seed: 4);
            using var opt = Optimizers.Create("adamd", ps, "lr=1e-2");
            Fixture.Run(opt, ps, 0, 2);
            var m = opt.StateOf(ps[0]).M!.detach().to_type(ScalarType.Float64).data<double>().ToArray();
            var e = Assert.Throws<FileNotFoundException>(() => opt.LoadCheckpoint(dir));
            Assert.Contains("is a folder", e.Message);
            Assert.Equal(m, opt.StateOf(ps[0]).M!.detach().to_type(ScalarType.Float64).data<double>().ToArray());
        }
        finally { Directory.Delete(dir, true); }
    }
}

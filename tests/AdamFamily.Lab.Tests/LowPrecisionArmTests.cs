using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;
using AdamFamily.Rules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests;

/// <summary>Arm specs carry state_precision into the trainers' optimizer, and a bad value is named.</summary>
public class LowPrecisionArmTests
{
    [Theory]
    [InlineData("adamd:lr=1e-3,weight_decay=5e-4,state_precision=bfloat16", StatePrecision.BFloat16, ScalarType.BFloat16)]
    [InlineData("adamw:state_precision=int8", StatePrecision.Int8, ScalarType.Byte)]
    [InlineData("adamw", StatePrecision.Float32, ScalarType.Float32)]
    public void ArmSpec_SetsTheStatePrecision(string spec, StatePrecision precision, ScalarType stored)
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(randn(300));
        using var opt = TrainingSupport.CreateOptimizer(new ArmSpec("arm", spec), new[] { p });
        Assert.Equal(precision, opt.Groups[0].Options.StatePrecision ?? StatePrecision.Float32);
        Assert.Equal(precision, opt.StateOf(p).Precision);
        Assert.Equal(stored, opt.StateOf(p).M!.dtype);
    }

    [Fact]
    public void ArmSpec_WithABadPrecision_NamesTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => Optimizers.ParseArm("adamd:state_precision=fp4"));
        Assert.Contains("state_precision", e.Message);
        Assert.Throws<ArgumentException>(() => Optimizers.ParseArm("sgd:state_precision=int8"));
    }
}

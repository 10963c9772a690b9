using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// Issue #21's library classes: an ε that divides by zero, the step counter, and misuse of the API (a learning
/// rate set to null, a null preset name, a parameter resized or disposed after its state exists). Each is refused
/// with an exception naming the parameter or option, and a refused step changes no parameter and no state.
/// </summary>
public sealed class MisuseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-misuse-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double[][] Snapshot(AfmdwOptimizer opt, IEnumerable<Parameter> ps) =>
        ps.SelectMany(p => new[] { p, opt.StateOf(p).M, opt.StateOf(p).V })
          .Select(t => t is null ? Array.Empty<double>() : t.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();

    /// <summary>The step throws <typeparamref name="TException"/> naming every string in <paramref name="mustName"/>, and nothing changed.</summary>
    private static void AssertRefused<TException>(AfmdwOptimizer opt, Parameter[] intact, params string[] mustName) where TException : Exception
    {
        var before = Snapshot(opt, intact);
        long steps = opt.StepCount;
        var perParam = intact.Select(p => opt.StateOf(p).Step).ToArray();
        var e = Assert.ThrowsAny<TException>(() => opt.step());
        foreach (var m in mustName) Assert.Contains(m, e.Message);
        Assert.DoesNotContain("Nullable object", e.Message);
        Assert.Equal(before, Snapshot(opt, intact));
        Assert.Equal(steps, opt.StepCount);
        Assert.Equal(perParam, intact.Select(p => opt.StateOf(p).Step).ToArray());
    }

    [Theory]
    [InlineData("eps=0")]
    [InlineData("eps=1e-50")]   // not 0 in float64, but 0 in float32: the same 0/0
    public void AnEpsThatDividesByZero_IsRefusedAtConstruction_ForEveryPlacement(string eps)
    {
        // AdamW puts ε outside the root with decoupled decay, where no other check caught ε = 0: a coordinate with a
        // zero gradient then computed 0/0 and the parameter became NaN under the default Throw policy.
        foreach (var preset in new[] { "adamw", "adam", "adamax", "adabelief" })
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => Optimizers.Create(preset, Fixture.Parameters(), "lr=1e-2," + eps));
            Assert.Contains("eps", e.Message);
            Assert.Contains("float32", e.Message);
        }
        Assert.ThrowsAny<ArgumentException>(() => new AdamW(Fixture.Parameters(), new AfmdwOptions { Eps = 0 }));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-50)]
    public void AnEpsThatDividesByZero_SetAfterConstruction_IsRefusedAtTheNextStep(double eps)
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamw", ps, "lr=1e-2");
        Fixture.Run(opt, ps, 0, 2);
        opt.Groups[0].Options.Eps = eps;
        Fixture.SetGrads(ps, 5);
        using (no_grad()) ps[0].grad!.zero_();   // the coordinates that made NaN
        AssertRefused<ArgumentException>(opt, ps, "eps", "group 0");
    }

    [Fact]
    public void StepCount_DoesNotCount_AStepWhereNoParameterHadAGradient()
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamw", ps, "lr=1e-2");
        opt.step();                          // no gradient anywhere: nothing was stepped
        Assert.Equal(0, opt.StepCount);
        Fixture.Run(opt, ps, 0, 2);
        Assert.Equal(2, opt.StepCount);
        Assert.All(ps, p => Assert.Equal(2, opt.StateOf(p).Step));
    }

    [Fact]
    public void StepCount_AfterLoadCheckpoint_IsTheCheckpointsStep()
    {
        var ps = Fixture.Parameters();
        var path = Path.Combine(_dir, "step3.ckpt");
        using (var a = Optimizers.Create("adamw", ps, "lr=1e-2")) { Fixture.Run(a, ps, 0, 3); a.SaveCheckpoint(path); }
        var fresh = Fixture.Clone(ps);
        using var b = Optimizers.Create("adamw", fresh, "lr=1e-2");
        b.LoadCheckpoint(path);
        Assert.Equal(3, b.StepCount);
        Fixture.Run(b, fresh, 3, 4);
        Assert.Equal(4, b.StepCount);
    }

    [Fact]
    public void ALearningRateSetToNull_IsRefusedAtTheNextStep_NamingTheGroupAndOption()
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamw", ps, "lr=1e-2");
        Fixture.Run(opt, ps, 0, 1);
        opt.Groups[0].Options.LearningRate = null;
        Fixture.SetGrads(ps, 1);
        AssertRefused<ArgumentException>(opt, ps, "lr", "group 0");
    }

    [Fact]
    public void ANullPresetName_OrNullParameters_AreArgumentErrors()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Optimizers.Create(null!, Fixture.Parameters(), "lr=1e-2"));
        Assert.Contains("name", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Optimizers.Create("adamw", (IEnumerable<Parameter>)null!, "lr=1e-2"));
    }

    [Fact]
    public void AParameterResizedInPlace_AfterItsStateExists_IsRefusedNamingIt()
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamw", ps, "lr=1e-2");
        Fixture.Run(opt, ps, 0, 1);
        using (no_grad()) ps[0].set_(randn(6, 3));
        ps[0].grad = null;                         // a gradient of the new shape, as backward would make
        Fixture.SetGrads(ps, 1);
        foreach (var path in new[] { ExecutionPath.Auto, ExecutionPath.TensorOps })
        {
            opt.ExecutionPath = path;
            AssertRefused<ArgumentException>(opt, [ps[1]], "index 0", "[6,3]", "[4,3]");
        }
    }

    [Fact]
    public void ADisposedParameter_IsRefusedNamingIt_AndTheOthersAreNotStepped()
    {
        var ps = Fixture.Parameters();
        using var opt = Optimizers.Create("adamw", ps, "lr=1e-2");
        Fixture.Run(opt, ps, 0, 1);
        Fixture.SetGrads(ps, 1);
        ps[1].Dispose();
        var e = Assert.ThrowsAny<InvalidOperationException>(() => opt.step());
        Assert.Contains("index 1", e.Message);
        Assert.Contains("disposed", e.Message);
        Assert.DoesNotContain("empty handle", e.Message);
        Assert.Equal(1, opt.StepCount);
        Assert.Equal(1, opt.StateOf(ps[0]).Step);
    }
}

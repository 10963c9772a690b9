using AdamFamily.Golden;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>Every case of shared/golden, on both execution paths, within the format's tolerances.</summary>
public class GoldenParityTests
{
    private static readonly Lazy<Dictionary<string, TrajectoryCase>> Cases = new(() =>
        new[] { "torch_optim.json", "afmdw_reference.json" }
            .SelectMany(f => TrajectoryFile.Load(TestPaths.Golden(f)))
            .ToDictionary(c => c.Name));

    public static IEnumerable<object[]> CaseNames(string file)
        => TrajectoryFile.Load(TestPaths.Golden(file)).Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> TorchCases() => CaseNames("torch_optim.json");
    public static IEnumerable<object[]> AfmdwCases() => CaseNames("afmdw_reference.json");

    [Theory]
    [MemberData(nameof(TorchCases))]
    [MemberData(nameof(AfmdwCases))]
    public void MatchesReference_FusedKernel(string name) => AssertPasses(ParityRunner.Run(Cases.Value[name], ExecutionPath.Auto));

    [Theory]
    [MemberData(nameof(TorchCases))]
    [MemberData(nameof(AfmdwCases))]
    public void MatchesReference_TensorOps(string name) => AssertPasses(ParityRunner.Run(Cases.Value[name], ExecutionPath.TensorOps));

    public static IEnumerable<object[]> StepDecayCases()
        => TorchCases().Where(c => ((string)c[0]).Contains("stepdecay"));

    /// <summary>The step-decay cases driven by a real TorchSharp MultiStepLR (×0.1 at step 12) instead of setting lr by hand.</summary>
    [Theory]
    [MemberData(nameof(StepDecayCases))]
    public void StepDecayCases_WithTorchSharpMultiStepLR(string name)
    {
        var tc = Cases.Value[name];
        var result = ParityRunner.Run(tc, ExecutionPath.Auto, opt =>
        {
            var scheduler = optim.lr_scheduler.MultiStepLR(opt, new[] { 12 }, gamma: 0.1);
            return () => scheduler.step();
        });
        AssertPasses(result);
    }

    private static void AssertPasses(ParityResult r)
    {
        Assert.True(r.Error is null, r.Error);
        Assert.True(r.Passed, $"{r.Case}: max abs error {r.MaxAbsError:G3}, max rel error {r.MaxRelError:G3}, worst/tolerance {r.WorstToleranceRatio:G3}");
    }
}

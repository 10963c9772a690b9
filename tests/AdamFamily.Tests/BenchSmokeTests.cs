using System.Text.Json;
using AdamFamily.Cli.Commands;

namespace AdamFamily.Tests;

/// <summary><c>afm bench --smoke</c> and <c>--smoke --train</c> run end to end (tiny sizes, one repetition), so the benchmark cannot rot.</summary>
public class BenchSmokeTests
{
    [Fact]
    public void SmokeBench_ReportsEverySetAndOptimizer()
    {
        var settings = BenchSettings.Smoke();
        var report = BenchCommand.Run(settings);

        Assert.Equal(settings.Sets.Count, report.Sets.Count);
        Assert.Equal(settings.Sets.Count * (settings.Presets.Count + settings.Baselines.Count), report.Steps.Count);
        foreach (var set in report.Sets)
        {
            Assert.False(double.IsNaN(set.LimitGBps) || set.LimitGBps < 0, $"{set.Name}: limit {set.LimitGBps}");
            Assert.Contains(report.Steps, x => x.Set == set.Name && x.Implementation == "TorchSharp" && x.Optimizer == "adamw");
        }
        // Timings are measurements: assert they are consistent (finite, ordered, non-negative), never that they
        // exceed some value; a smoke-sized step may take less than the clock resolves.
        foreach (var step in report.Steps)
        {
            string what = $"{step.Set}/{step.Implementation}/{step.Optimizer}";
            Assert.True(double.IsFinite(step.Ms.Median) && step.Ms.Min >= 0, $"{what}: {step.Ms.Median} ms");
            Assert.True(step.Ms.Min <= step.Ms.Median && step.Ms.Median <= step.Ms.P90, $"{what}: min {step.Ms.Min} median {step.Ms.Median} p90 {step.Ms.P90}");
            Assert.False(double.IsNaN(step.GBps) || step.GBps < 0, $"{what}: {step.GBps} GB/s");
            Assert.NotNull(step.SpeedupVsTorchSharpAdamW);
        }
        Assert.Contains(report.Steps, x => x.Optimizer == "radam" && x.Note!.Contains("lr²"));

        using var doc = JsonDocument.Parse(BenchCommand.ToJson(report));
        Assert.Equal(report.Steps.Count, doc.RootElement.GetProperty("steps").GetArrayLength());
    }

    [Fact]
    public void SmokeTrain_TimesThreeArms()
    {
        var report = BenchCommand.Run(BenchSettings.Smoke(train: true));
        Assert.Equal(3, report.Train.Count);
        foreach (var t in report.Train)
        {
            Assert.True(double.IsFinite(t.EpochMs.Median) && t.StepMs.Min >= 0 && t.StepMs.Median <= t.EpochMs.Max, $"{t.Optimizer} {t.Implementation}: epoch {t.EpochMs.Median} ms, step {t.StepMs.Median} ms");
            Assert.InRange(t.StepShare, 0, 1);
            Assert.True(double.IsFinite(t.FinalLoss));
        }
    }

    [Fact]
    public void Cli_BenchSmoke_ParsesOptions_AndWritesJson()
    {
        var file = Path.Combine(Path.GetTempPath(), $"afm-bench-{Guid.NewGuid():N}.json");
        try
        {
            int exit = BenchCommand.Create().Parse(new[] { "--smoke", "--presets", "adamd,sgd", "--baselines", "adamw", "--threads", "1", "--policy", "propagate", "--json", file }).Invoke();
            Assert.Equal(0, exit);
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal("propagate", doc.RootElement.GetProperty("policy").GetString());
            Assert.Equal(1, doc.RootElement.GetProperty("kernel_threads").GetInt32());
            Assert.Equal(2 * 3, doc.RootElement.GetProperty("steps").GetArrayLength());
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Cli_Bench_RejectsBadOptions()
        => Assert.Equal(2, BenchCommand.Create().Parse(new[] { "--smoke", "--presets", "nosuch" }).Invoke());

    [Fact]
    public void ResNet18Shapes_AreCifarResNet18()
    {
        var shapes = BenchCommand.ResNet18Shapes();
        Assert.Equal(62, shapes.Count);
        Assert.Equal(11_173_962, shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b)));
        Assert.Equal(62, BenchCommand.ResNet18Shapes(16).Count);
    }
}

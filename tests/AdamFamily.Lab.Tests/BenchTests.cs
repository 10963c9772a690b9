using System.Text.Json;
using AdamFamily.Lab.Benchmarks;
using AdamFamily.Lab.Models;
using AdamFamily.Rules;

namespace AdamFamily.Lab.Tests;

/// <summary>
/// The step benchmark (<c>afm bench</c>) runs end to end at smoke size, so it cannot rot; its byte counts and state
/// memory per precision are the numbers; the ResNet-18 set is the lab's model; the command line parses,
/// refuses bad input with exit code 2 and writes its JSON report.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class BenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("afm-bench-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SmokeBench_ReportsEverySetOptimizerAndPrecision()
    {
        var settings = BenchSettings.Smoke();
        var report = StepBenchmark.Run(settings);

        Assert.Equal(settings.Sets.Count, report.Sets.Count);
        int ours = settings.Presets.Count * settings.Precisions.Count; // adamw and adamd take every precision
        Assert.Equal(settings.Sets.Count * (ours + settings.Baselines.Count), report.Steps.Count);
        foreach (var set in report.Sets)
        {
            Assert.False(double.IsNaN(set.LimitGBps) || set.LimitGBps < 0, $"{set.Name}: limit {set.LimitGBps}");
            Assert.Contains(report.Steps, x => x.Set == set.Name && x.Implementation == "TorchSharp" && x.Optimizer == "adamw");
        }
        // Timings are measurements: assert they are consistent (finite, ordered, non-negative), never that they
        // exceed some value; a smoke-sized step may take less than the clock resolves.
        foreach (var step in report.Steps)
        {
            string what = $"{step.Set}/{step.Implementation}/{step.Optimizer}/{step.StatePrecision}";
            Assert.True(double.IsFinite(step.Ms.Median) && step.Ms.Min >= 0, $"{what}: {step.Ms.Median} ms");
            Assert.True(step.Ms.Min <= step.Ms.Median && step.Ms.Median <= step.Ms.P90, $"{what}: min {step.Ms.Min} median {step.Ms.Median} p90 {step.Ms.P90}");
            Assert.False(double.IsNaN(step.GBps) || step.GBps < 0, $"{what}: {step.GBps} GB/s");
            Assert.NotNull(step.SpeedupVsTorchSharpAdamW);
        }
        // Each variant's own byte count and state size (float32 parameters).
        foreach (var (precision, moved, state) in new[] { ("float32", 28.0, 8.0), ("bfloat16", 20.0, 4.0), ("int8", 16.0625, 2.0) })
        {
            var row = report.Steps.First(x => x.Set == "10K" && x.Optimizer == "adamw" && x.StatePrecision == precision);
            Assert.Equal(moved, row.BytesPerParameter, 6);
            // int8: 2 bytes of codes + two float32 scales per 256-element block (10,000 elements: 40 blocks).
            double expectedState = precision == "int8" ? 2.0 + 2 * 4.0 * 40 / 10_000 : state;
            Assert.Equal(expectedState, row.StateBytesPerParameter, 6);
            Assert.NotNull(row.VsFloat32State);
        }
        Assert.Contains(report.Steps, x => x.Optimizer == "radam" && x.Note!.Contains("lr²"));

        using var doc = JsonDocument.Parse(report.ToJson());
        Assert.Equal(report.Steps.Count, doc.RootElement.GetProperty("steps").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("steps")[0].TryGetProperty("state_bytes_per_parameter", out _));
    }

    [Fact]
    public void SmokeTrain_TimesThreeArms()
    {
        var report = StepBenchmark.Run(BenchSettings.Smoke(train: true));
        Assert.Equal(3, report.Train.Count);
        foreach (var t in report.Train)
        {
            Assert.True(double.IsFinite(t.EpochMs.Median) && t.StepMs.Min >= 0 && t.StepMs.Median <= t.EpochMs.Max, $"{t.Optimizer} {t.Implementation}: epoch {t.EpochMs.Median} ms, step {t.StepMs.Median} ms");
            Assert.InRange(t.StepShare, 0, 1);
            Assert.True(double.IsFinite(t.FinalLoss));
        }
    }

    [Fact]
    public void ResNet18Set_IsTheLabsModel()
    {
        var shapes = ParameterSet.ResNet18Shapes();
        Assert.Equal(62, shapes.Count);
        Assert.Equal(11_173_962, shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b)));
        using var model = ResNet.ResNet18(3, 10);
        Assert.Equal(model.parameters().Select(p => p.shape), shapes);
        Assert.Equal(62, ParameterSet.ResNet18Shapes(16).Count);
        Assert.Equal("resnet18/16", ParameterSet.Parse("resnet18/16").Name);
        Assert.Throws<ArgumentException>(() => ParameterSet.Parse("resnet18/0"));
    }

    [Fact]
    public void Settings_ParseStatePrecisions_AndNameBadValues()
    {
        var s = BenchSettings.From("adamw", "bf16,int8", "10K", "none", 1, 0, 1, "throw", "float32", smoke: false, train: false, epochs: 1, explicitSizes: true, explicitReps: true);
        Assert.Equal(new[] { StatePrecision.BFloat16, StatePrecision.Int8 }, s.Precisions);
        var e = Assert.Throws<ArgumentException>(() => BenchSettings.From("adamw", "fp8", "10K", "none", 1, 0, 1, "throw", "float32", false, false, 1, true, true));
        Assert.Contains("--state-precisions", e.Message);
    }

    [Fact]
    public void Cli_BenchSmoke_ParsesOptions_AndWritesJson()
    {
        var file = Path.Combine(_dir, "bench.json");
        var (code, output) = CliEndToEndTests.Afm("bench", "--smoke", "--presets", "adamd,sgd", "--state-precisions", "float32,int8", "--baselines", "adamw",
            "--threads", "1", "--policy", "propagate", "--json", file);
        Assert.True(code == 0, output);
        Assert.Contains("state B/param", output);
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        Assert.Equal("propagate", doc.RootElement.GetProperty("policy").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("kernel_threads").GetInt32());
        // 2 sets × (adamd float32 + adamd int8 + sgd float32 + TorchSharp adamw)
        Assert.Equal(2 * 4, doc.RootElement.GetProperty("steps").GetArrayLength());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp*"));
    }

    [Theory]
    [InlineData("--presets", "nosuch")]
    [InlineData("--state-precisions", "fp8")]
    [InlineData("--json", "/nonexistent-folder/x.json")]
    public void Cli_Bench_RejectsBadOptions(string option, string value)
    {
        var (code, output) = CliEndToEndTests.Afm("bench", "--smoke", option, value);
        Assert.True(code == 2, output);
        Assert.DoesNotContain("   at ", output);
    }
}

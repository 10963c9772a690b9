using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdamFamily.Lab.Benchmarks;

/// <summary>Median and spread of timings in milliseconds.</summary>
public sealed record Stats(double Median, double Min, double P10, double P90, double Max, int N)
{
    /// <summary>The statistics of the samples (NaN for none).</summary>
    public static Stats Of(IEnumerable<double> samples)
    {
        var a = samples.OrderBy(x => x).ToArray();
        if (a.Length == 0) return new Stats(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        double Q(double q)
        {
            double pos = q * (a.Length - 1);
            int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
            return a[lo] + (a[hi] - a[lo]) * (pos - lo);
        }
        return new Stats(Q(0.5), a[0], Q(0.1), Q(0.9), a[^1], a.Length);
    }
}

/// <summary>One parameter set: its size and the bandwidth limit measured beside its steps.</summary>
public sealed record SetResult(string Name, long Parameters, int Tensors, Stats StreamMs,
    [property: JsonPropertyName("limit_gb_per_s")] double LimitGBps, [property: JsonPropertyName("best_limit_gb_per_s")] double BestLimitGBps);

/// <summary>
/// One optimizer on one set. <see cref="BytesPerParameter"/> is what the step must move per parameter (its own
/// count: 28 B for an fp32 Adam step, 20 B with bfloat16 state, ~16 B with int8 state); <see cref="StateBytesPerParameter"/>
/// is the optimizer state it keeps (moment buffers and int8 scales); <see cref="VsFloat32State"/> is its median time over the
/// same preset's with float32 state.
/// </summary>
public sealed record StepResult(string Set, string Optimizer, string Implementation, string StatePrecision, long Parameters, int Tensors,
    double BytesPerParameter, double StateBytesPerParameter, Stats Ms,
    [property: JsonPropertyName("gb_per_s")] double GBps, double FractionOfLimit, double FractionOfLimitBest,
    [property: JsonPropertyName("speedup_vs_torchsharp_adamw")] double? SpeedupVsTorchSharpAdamW, double? VsFloat32State,
    double AllocBytesPerStep, double? WorkerAllocBytesPerStep, string? Note);

/// <summary>One optimizer's MLP training epochs (--train).</summary>
public sealed record TrainResult(string Optimizer, string Implementation, int Batches, Stats EpochMs, Stats StepMs, double StepShare, double FinalLoss);

/// <summary>Everything one <c>afm bench</c> run measured, with the machine and settings.</summary>
public sealed record BenchReport(string Machine, int Cores, string Runtime, [property: JsonPropertyName("libtorch")] string LibTorch, int TorchThreads, int KernelThreads, string Policy, string Dtype,
    int Reps, int Warmup, bool NativeGradAccess, IReadOnlyList<SetResult> Sets, IReadOnlyList<StepResult> Steps, IReadOnlyList<TrainResult> Train,
    IReadOnlyList<string> Notes)
{
    /// <summary>The report as JSON in the lab's convention (<see cref="LabFiles.Json"/>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    /// <summary>Writes the report as JSON, atomically (<see cref="LabFiles.WriteJson{T}"/>).</summary>
    public string WriteJson(string path) => LabFiles.WriteJson(this, path);
}

using System.Globalization;
using AdamFamily.Lab.Models;
using AdamFamily.Rules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Benchmarks;

/// <summary>A named list of parameter shapes to time a step on.</summary>
public sealed record ParameterSet(string Name, IReadOnlyList<long[]> Shapes)
{
    /// <summary>Total elements.</summary>
    public long Parameters => Shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b));

    /// <summary>
    /// The parameter shapes of the lab's CIFAR ResNet-18 (<see cref="ResNet.ResNet18"/>, 10 classes: 62 tensors,
    /// 11,173,962 parameters), read from the model itself; <paramref name="widthDivisor"/> divides its widths (smoke runs).
    /// </summary>
    public static List<long[]> ResNet18Shapes(int widthDivisor = 1)
    {
        using var model = ResNet.ResNet18(3, 10, width: Math.Max(1, 64 / widthDivisor));
        return model.parameters().Select(p => p.shape).ToList();
    }

    /// <summary>Parses a count (10K, 1M, 11M, 2500000) as one tensor, or resnet18, or resnet18/K.</summary>
    public static ParameterSet Parse(string token)
    {
        var t = token.Trim().ToLowerInvariant();
        if (t == "resnet18") return new ParameterSet("resnet18", ResNet18Shapes());
        if (t.StartsWith("resnet18/", StringComparison.Ordinal) && int.TryParse(t["resnet18/".Length..], out int k) && k >= 1 && k <= 64)
            return new ParameterSet(t, ResNet18Shapes(k));
        double scale = 1;
        var num = t;
        if (t.EndsWith('k')) { scale = 1e3; num = t[..^1]; }
        else if (t.EndsWith('m')) { scale = 1e6; num = t[..^1]; }
        if (!double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v * scale >= 1) || v * scale > int.MaxValue)
            throw new ArgumentException($"--sizes: cannot read '{token}': expected a count like 10K, 1M, 11M or 2500000 (at most {int.MaxValue:N0}), resnet18 or resnet18/K (K = 1…64).");
        long n = (long)Math.Round(v * scale);
        return new ParameterSet(token.Trim(), new[] { new[] { n } });
    }
}

/// <summary>What <c>afm bench</c> measures.</summary>
public sealed record BenchSettings
{
    /// <summary>Our presets to time.</summary>
    public IReadOnlyList<string> Presets { get; init; } = new[] { "adamw", "adamd" };
    /// <summary>The state precisions each preset is timed with (presets without a second moment use float32 only).</summary>
    public IReadOnlyList<StatePrecision> Precisions { get; init; } = new[] { StatePrecision.Float32, StatePrecision.BFloat16, StatePrecision.Int8 };
    /// <summary>Parameter sets.</summary>
    public IReadOnlyList<ParameterSet> Sets { get; init; } = new[] { "1M", "11M", "resnet18" }.Select(ParameterSet.Parse).ToArray();
    /// <summary>TorchSharp built-ins timed in the same run.</summary>
    public IReadOnlyList<string> Baselines { get; init; } = AllBaselines;
    /// <summary>Timed repetitions per case.</summary>
    public int Reps { get; init; } = 20;
    /// <summary>Untimed steps first.</summary>
    public int Warmup { get; init; } = 3;
    /// <summary>Most threads our kernel and the probe use.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Our non-finite policy.</summary>
    public NonFinitePolicy Policy { get; init; } = NonFinitePolicy.Throw;
    /// <summary>Parameter dtype.</summary>
    public ScalarType Dtype { get; init; } = ScalarType.Float32;
    /// <summary>Time MLP training epochs instead of bare steps.</summary>
    public bool Train { get; init; }
    /// <summary>Timed epochs (--train).</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Untimed epochs first (--train).</summary>
    public int WarmupEpochs { get; init; } = 1;
    /// <summary>Batches per epoch (--train).</summary>
    public int TrainBatches { get; init; } = 50;
    /// <summary>LibTorch intra-op threads to set for the run (null: leave LibTorch's default).</summary>
    public int? TorchThreads { get; init; }

    /// <summary>Every baseline name.</summary>
    public static readonly string[] AllBaselines = { "adam", "adamw", "nadam", "radam", "adamax", "sgd" };

    /// <summary>The smoke configuration: tiny sizes (one 10K tensor and ResNet-18 at 1/16 width), 1 warm-up, 1 repetition.</summary>
    public static BenchSettings Smoke(bool train = false) => new()
    {
        Sets = new[] { "10K", "resnet18/16" }.Select(ParameterSet.Parse).ToArray(),
        Reps = 1, Warmup = 1, Train = train, Epochs = 1, WarmupEpochs = 0, TrainBatches = 3,
    };

    /// <summary>Validates and combines the command-line values; errors name the option.</summary>
    public static BenchSettings From(string presets, string precisions, string sizes, string baselines, int reps, int warmup, int threads, string policy,
        string dtype, bool smoke, bool train, int epochs, bool explicitSizes, bool explicitReps)
    {
        var s = smoke ? Smoke(train) : new BenchSettings { Train = train };
        var presetList = Split(presets, "--presets");
        if (presetList.Length == 0) throw new ArgumentException("--presets: give at least one preset.");
        foreach (var p in presetList) global::AdamFamily.Presets.Get(p); // validates, lists the valid names
        var precisionList = Split(precisions, "--state-precisions").Select(p => StatePrecisions.Parse(p, "--state-precisions")).Distinct().ToArray();
        if (precisionList.Length == 0) throw new ArgumentException("--state-precisions: give at least one of float32, bfloat16, int8.");
        // A preset without moment state (SGD) runs only at float32: with none of that in the list it would silently not be timed.
        if (!precisionList.Contains(StatePrecision.Float32)
            && presetList.FirstOrDefault(p => !global::AdamFamily.Presets.Get(p).Keys.Contains("state_precision")) is { } stateless)
            throw new ArgumentException($"--presets {stateless}: it keeps no moment state, so none of --state-precisions {precisions} applies and it would not be timed; add float32 to --state-precisions or drop it from --presets.");
        var baseList = baselines.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? Array.Empty<string>() : Split(baselines, "--baselines");
        foreach (var b in baseList)
            if (!AllBaselines.Contains(b)) throw new ArgumentException($"--baselines: unknown '{b}'. Valid: {string.Join(", ", AllBaselines)}, or none.");
        // Checked for --smoke too (which keeps its own 1 warm-up and 1 epoch): a bad value is refused, never silently replaced.
        if (warmup < 0) throw new ArgumentException($"--warmup {warmup}: must be ≥ 0.");
        if (epochs < 1) throw new ArgumentException($"--epochs {epochs}: must be ≥ 1.");
        if (!smoke || explicitReps)
        {
            if (reps < 1) throw new ArgumentException("--reps must be ≥ 1.");
            s = s with { Reps = reps };
        }
        if (!smoke)
        {
            s = s with { Warmup = warmup, Epochs = epochs };
        }
        if (!smoke || explicitSizes)
            s = s with { Sets = CommaList.Parse(sizes, "--sizes").Select(ParameterSet.Parse).ToArray() };
        if (threads < 1) throw new ArgumentException("--threads must be ≥ 1.");
        var pol = policy.Trim().ToLowerInvariant() switch
        {
            "throw" => NonFinitePolicy.Throw,
            "propagate" => NonFinitePolicy.Propagate,
            "skip" => NonFinitePolicy.Skip,
            _ => throw new ArgumentException($"--policy: '{policy}' is not throw, skip or propagate."),
        };
        var dt = dtype.Trim().ToLowerInvariant() switch
        {
            "float32" or "f32" => ScalarType.Float32,
            "float64" or "f64" => ScalarType.Float64,
            _ => throw new ArgumentException($"--dtype: '{dtype}' is not float32 or float64."),
        };
        return s with { Presets = presetList, Precisions = precisionList, Baselines = baseList, Threads = threads, Policy = pol, Dtype = dt };
    }

    private static string[] Split(string list, string option)
        => CommaList.Parse(list, option).Select(x => x.ToLowerInvariant()).ToArray();
}

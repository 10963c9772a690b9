using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>Settings of <see cref="SyntheticImageTask"/>.</summary>
public sealed record SyntheticImageOptions
{
    /// <summary>Training records.</summary>
    public int TrainCount { get; init; } = 2000;

    /// <summary>Test records.</summary>
    public int TestCount { get; init; } = 500;

    /// <summary>Image channels.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Image height and width.</summary>
    public int ImageSize { get; init; } = 28;

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; init; } = 10;

    /// <summary>Std of the additive Gaussian pixel noise (pixels live in [0, 1]).</summary>
    public double NoiseStd { get; init; } = 0.2;

    /// <summary>Largest random translation in pixels, each axis.</summary>
    public int MaxShift { get; init; } = 2;

    /// <summary>
    /// Each record mixes its class prototype with a random other class's prototype with this weight
    /// drawn uniformly from [0, MaxConfusion]; near 0.5 the classes become genuinely ambiguous.
    /// </summary>
    public double MaxConfusion { get; init; } = 0.35;

    /// <summary>Seed: the whole task is a pure function of these options.</summary>
    public long Seed { get; init; } = 0;
}

/// <summary>
/// A built-in image classification task needing no files: each class has a smooth random prototype
/// (a few Gaussian blobs per channel, partly shared between classes); a record is its class prototype,
/// blended with another class's, shifted, rescaled in contrast and corrupted by Gaussian noise, clamped to [0, 1].
/// Deterministic from the seed (own PRNG, not torch's); a small MLP learns it well above chance but not perfectly.
/// With the defaults, a 784-256-256-10 MLP (Adam 1e-3, batch 64) reaches roughly 60–70 % test accuracy after two epochs
/// and about 90 % after ten, while its training accuracy approaches 100 % (a real generalisation gap).
/// It is the lab's fallback task when no real dataset is installed, and the tests' fixture.
/// </summary>
public static class SyntheticImageTask
{
    private const int BlobsPerPrototype = 4;
    /// <summary>Weight of the component common to all prototypes.</summary>
    private const float SharedWeight = 0.3f;

    /// <summary>Builds the task; train and test are drawn from the same prototypes with independent streams.</summary>
    public static ImageTask Create(SyntheticImageOptions? options = null)
    {
        var o = options ?? new SyntheticImageOptions();
        Validate(o);
        float[][] prototypes = MakePrototypes(o);
        var train = MakeSplit(o, prototypes, o.TrainCount, stream: 1, "synthetic/train");
        try { return new ImageTask("synthetic", train, MakeSplit(o, prototypes, o.TestCount, stream: 2, "synthetic/test")); }
        catch { train.Dispose(); throw; }
    }

    private static void Validate(SyntheticImageOptions o)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(o.TrainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(o.TestCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(o.Channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ImageSize, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(o.NumClasses, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(o.NoiseStd);
        ArgumentOutOfRangeException.ThrowIfNegative(o.MaxShift);
        if (o.MaxConfusion is < 0 or > 0.5)
            throw new ArgumentOutOfRangeException(nameof(o.MaxConfusion), "MaxConfusion must be in [0, 0.5].");
    }

    /// <summary>One [C*S*S] prototype per class, values in [0, 1].</summary>
    private static float[][] MakePrototypes(SyntheticImageOptions o)
    {
        int s = o.ImageSize, plane = s * s;
        var rng = new DeterministicRng(o.Seed, stream: 0);
        // A component shared by all classes keeps them from being trivially separable by mean brightness.
        var shared = new float[o.Channels * plane];
        for (int c = 0; c < o.Channels; c++) AddBlobs(rng, shared.AsSpan(c * plane, plane), s, BlobsPerPrototype);

        var protos = new float[o.NumClasses][];
        for (int k = 0; k < o.NumClasses; k++)
        {
            var p = new float[o.Channels * plane];
            for (int c = 0; c < o.Channels; c++) AddBlobs(rng, p.AsSpan(c * plane, plane), s, BlobsPerPrototype);
            for (int i = 0; i < p.Length; i++) p[i] = (1 - SharedWeight) * p[i] + SharedWeight * shared[i];
            protos[k] = p;
        }
        // Rescale all prototypes jointly to [0.1, 0.9] so noise and clamping act symmetrically.
        float min = protos.Min(p => p.Min()), max = protos.Max(p => p.Max());
        float scale = max > min ? 0.8f / (max - min) : 0f;
        foreach (var p in protos)
            for (int i = 0; i < p.Length; i++) p[i] = 0.1f + (p[i] - min) * scale;
        return protos;
    }

    private static void AddBlobs(DeterministicRng rng, Span<float> plane, int s, int count)
    {
        for (int b = 0; b < count; b++)
        {
            double cy = s * (0.15 + 0.7 * rng.NextDouble());
            double cx = s * (0.15 + 0.7 * rng.NextDouble());
            double sigma = s * (0.06 + 0.12 * rng.NextDouble());
            double amp = (rng.NextDouble() < 0.5 ? -1 : 1) * (0.5 + 0.5 * rng.NextDouble());
            double inv = 1.0 / (2 * sigma * sigma);
            for (int y = 0; y < s; y++)
                for (int x = 0; x < s; x++)
                {
                    double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
                    plane[y * s + x] += (float)(amp * Math.Exp(-d2 * inv));
                }
        }
    }

    private static LabDataset MakeSplit(SyntheticImageOptions o, float[][] protos, int count, long stream, string name)
    {
        int s = o.ImageSize, plane = s * s, size = o.Channels * plane;
        var rng = new DeterministicRng(o.Seed, stream);
        var pixels = new float[(long)count * size];
        var labels = new long[count];
        for (int n = 0; n < count; n++)
        {
            int k = rng.NextInt(o.NumClasses);
            int other = (k + 1 + rng.NextInt(o.NumClasses - 1)) % o.NumClasses;
            double mix = o.MaxConfusion * rng.NextDouble();
            int dy = rng.NextInt(-o.MaxShift, o.MaxShift), dx = rng.NextInt(-o.MaxShift, o.MaxShift);
            double contrast = 0.7 + 0.6 * rng.NextDouble();
            labels[n] = k;
            var dst = pixels.AsSpan(n * size, size);
            for (int c = 0; c < o.Channels; c++)
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                    {
                        int sy = y - dy, sx = x - dx;
                        double v = 0; // shifted-in border is background (0)
                        if ((uint)sy < (uint)s && (uint)sx < (uint)s)
                        {
                            int at = c * plane + sy * s + sx;
                            v = (1 - mix) * protos[k][at] + mix * protos[other][at];
                        }
                        v = 0.5 + contrast * (v - 0.5) + o.NoiseStd * rng.NextGaussian();
                        dst[c * plane + y * s + x] = (float)Math.Clamp(v, 0.0, 1.0);
                    }
        }
        using var scope = NewDisposeScope();
        var xs = tensor(pixels, [count, o.Channels, s, s], ScalarType.Float32);
        var ys = tensor(labels, [count], ScalarType.Int64);
        return new LabDataset(name, xs, ys, o.NumClasses);
    }
}

namespace AdamFamily.Lab.Data;

/// <summary>
/// A small, fully specified pseudo-random generator (SplitMix64) used for everything the lab
/// must reproduce exactly: batch order, augmentation choices, synthetic data.
/// It never touches torch's global generator, so optimizer arms that share a seed see the same
/// data no matter how many random numbers their models or optimizers consume.
/// </summary>
public sealed class DeterministicRng
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>Creates a generator whose whole sequence is a function of <paramref name="seed"/>.</summary>
    public DeterministicRng(long seed) => _state = (ulong)seed;

    /// <summary>Creates a generator for an independent stream derived from (<paramref name="seed"/>, <paramref name="stream"/>).</summary>
    public DeterministicRng(long seed, long stream) : this(DeriveSeed(seed, stream)) { }

    /// <summary>
    /// Hashes a seed together with any number of integers (epoch, batch index, purpose tag ...)
    /// into a new seed; different parts give statistically unrelated streams.
    /// </summary>
    public static long DeriveSeed(long seed, params ReadOnlySpan<long> parts)
    {
        ulong h = Mix((ulong)seed ^ 0x6A09E667F3BCC908UL);
        foreach (long p in parts)
            h = Mix(h ^ Mix((ulong)p + Golden));
        return (long)h;
    }

    /// <summary>Next 64 uniformly distributed bits.</summary>
    public ulong NextUInt64()
    {
        _state += Golden;
        return Mix(_state);
    }

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong range = (ulong)maxExclusive;
        // Reject the few values at the bottom that would make r % range non-uniform.
        ulong threshold = (0UL - range) % range;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % range);
        }
    }

    /// <summary>Uniform integer in [<paramref name="minInclusive"/>, <paramref name="maxInclusive"/>].</summary>
    public int NextInt(int minInclusive, int maxInclusive)
    {
        if (maxInclusive < minInclusive) throw new ArgumentOutOfRangeException(nameof(maxInclusive));
        return minInclusive + NextInt(checked(maxInclusive - minInclusive + 1));
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal sample (Box–Muller; one pair per call, the second value discarded for simplicity).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1], so the log is finite
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>In-place Fisher–Yates shuffle.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A uniformly random permutation of 0..<paramref name="count"/>-1.</summary>
    public int[] Permutation(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var p = new int[count];
        for (int i = 0; i < count; i++) p[i] = i;
        Shuffle<int>(p);
        return p;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

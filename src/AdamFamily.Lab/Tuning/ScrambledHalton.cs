using AdamFamily.Lab.Data;

namespace AdamFamily.Lab.Tuning;

/// <summary>
/// A seeded scrambled Halton sequence in [0, 1)^d. Coordinate j of point i (i = 1, 2, …; 0 is skipped, it would
/// be the corner) is the radical inverse of i in the j-th prime base p with every digit passed through a random
/// permutation of {0, …, p−1} drawn per (dimension, digit position) from the seed — random digit scrambling
/// (Owen 1995; Matoušek 1998), which keeps the Halton points' stratification while removing the strong
/// correlation between coordinates of larger primes. Digits are scrambled down to a resolution of 1e-12, so even
/// an all-zero tail turns into random digits and no coordinate sits exactly on 0.
/// </summary>
public sealed class ScrambledHalton
{
    private static readonly int[] Primes = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37 };
    private readonly int[][][] _permutations; // [dimension][digit position][digit]

    /// <summary>A sequence of <paramref name="dimensions"/> coordinates (1 ≤ d ≤ 12) scrambled by <paramref name="seed"/>.</summary>
    public ScrambledHalton(int dimensions, long seed)
    {
        if (dimensions < 1 || dimensions > Primes.Length)
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, $"a search space has 1 to {Primes.Length} dimensions.");
        Dimensions = dimensions;
        _permutations = new int[dimensions][][];
        for (int j = 0; j < dimensions; j++)
        {
            int p = Primes[j];
            int digits = (int)Math.Ceiling(12 / Math.Log10(p));
            var rng = new DeterministicRng(seed, stream: 7919 + j);
            _permutations[j] = Enumerable.Range(0, digits).Select(_ => rng.Permutation(p)).ToArray();
        }
    }

    /// <summary>Number of coordinates per point.</summary>
    public int Dimensions { get; }

    /// <summary>Point <paramref name="index"/> (≥ 1).</summary>
    public double[] Point(long index)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(index, 1);
        var x = new double[Dimensions];
        for (int j = 0; j < Dimensions; j++)
        {
            int p = Primes[j];
            var perms = _permutations[j];
            double value = 0, scale = 1.0 / p;
            long rest = index;
            for (int k = 0; k < perms.Length; k++, scale /= p)
            {
                int digit = (int)(rest % p);
                rest /= p;
                value += perms[k][digit] * scale;
            }
            x[j] = Math.Min(value, Math.BitDecrement(1.0));
        }
        return x;
    }
}

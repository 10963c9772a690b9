using System.Numerics;
using System.Runtime.CompilerServices;
using AdamFamily.Rules;

namespace AdamFamily.Execution;

/// <summary>
/// The low-precision storage formats of the moment buffers and the random bits of their stochastic rounding,
/// for the fused kernel (SIMD over raw memory). <see cref="StateCodecTensors"/> is the same arithmetic in tensor
/// ops (the reference path); the two are tested to agree bit for bit.
/// <para>
/// <b>Random bits.</b> Element i of a parameter at step t takes h = lowbias32(i mod 2³² XOR k_t), where
/// lowbias32 is C. Wellons' bijective 32-bit integer hash (x ^= x≫16; x ·= 0x7feb352d; x ^= x≫15; x ·= 0x846ca68b;
/// x ^= x≫16) and k_t the low 32 bits of SplitMix64(seed ⊕ SplitMix64(t)), seed being the parameter's ordinal in
/// its optimizer (stored in checkpoints). m takes the low 16 bits of h, v and v_max the high 16. The bits depend
/// only on (seed, t, i), never on threads or chunks: a step is bit-identical for any thread count and after a
/// checkpoint round trip.
/// </para>
/// <para>
/// <b>Stochastic rounding.</b> A float32 value f is rounded to fewer mantissa bits by adding 16 random bits at
/// the position just below the kept bits of its bit pattern and truncating: it rounds up with probability equal
/// to the dropped fraction, so E[round(f)] = f (unbiased, which keeps v decaying by β₂ = 0.999 even though one
/// step's change is far below one unit in the last place).
/// </para>
/// <para>
/// <b>bfloat16</b>: the top 16 bits of the float32 pattern (8 exponent bits, 7 mantissa bits).
/// <b>int8</b>: per block of 256 elements, scale = max |f| (float32) and y = f / scale ∈ [−1, 1]; y is coded as
/// an 8-bit minifloat cut from its float32 bits (exponent and top 3 mantissa bits, code = (bits ≫ 20) − base):
/// m (signed) as sign + 7 bits covering |y| ∈ [2⁻¹⁵, 1]; v (non-negative) as 8 bits covering y ∈ [2⁻³¹, 1].
/// A minifloat has equal relative spacing (12.5%) over its whole range, which suits v: it spans many decades
/// (v ∝ g², so 4½ decades of gradient magnitude are 9 of v), and a linear code would round every v below 1/255
/// of its block's maximum to 0 — and H = (v + ε)^(−1/2) of a v rounded to 0 is the largest step there is. For
/// the same reason a positive v never rounds to 0 (it rounds up to the smallest code), while m below the range
/// rounds to 0 (no step). Code 0 is exactly 0; the block maximum is coded exactly. Encoding and decoding are
/// integer shifts of the float32 pattern: no table lookups, SIMD-friendly (bitsandbytes' dynamic-tree code needs
/// a 256-entry table and a search to encode).
/// </para>
/// </summary>
internal static unsafe class StateCodec
{
    /// <summary>Elements per int8 quantisation block.</summary>
    public const int Block = StatePrecisions.BlockSize;

    /// <summary>m's int8 code: magnitude code c ∈ [0, MMax] is (bits(|y|) ≫ 20) − MBase (exponent ≥ 2⁻¹⁵), sign in bit 7.</summary>
    public const int MBase = 112 << 3, MMax = 120;
    /// <summary>v's int8 code: c ∈ [0, VMax] is (bits(y) ≫ 20) − VBase (exponent ≥ 2⁻³¹); c ≥ 1 for every y &gt; 0.</summary>
    public const int VBase = 96 << 3, VMax = 248;

    // ---- random bits ---------------------------------------------------------------------------------------

    /// <summary>SplitMix64's output function (Steele, Lea, Flood 2014).</summary>
    public static ulong SplitMix64(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The 32-bit key of step <paramref name="step"/> of the parameter with rounding seed <paramref name="seed"/>.</summary>
    public static uint StepKey(ulong seed, long step) => (uint)SplitMix64(seed ^ SplitMix64((ulong)step));

    /// <summary>lowbias32 (C. Wellons): a bijective 32-bit hash with low bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(uint x)
    {
        x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> Hash(Vector<uint> x)
    {
        x ^= Vector.ShiftRightLogical(x, 16); x *= new Vector<uint>(0x7feb352dU);
        x ^= Vector.ShiftRightLogical(x, 15); x *= new Vector<uint>(0x846ca68bU);
        x ^= Vector.ShiftRightLogical(x, 16);
        return x;
    }

    private static readonly Vector<uint> LaneIndex = CreateLaneIndex();
    private static Vector<uint> CreateLaneIndex()
    {
        Span<uint> lanes = stackalloc uint[Vector<uint>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = (uint)i;
        return new Vector<uint>(lanes);
    }

    /// <summary>16 random bits of element <paramref name="index"/>: the low half of its hash for m, the high half for v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Random16(long index, uint key, bool high)
    {
        uint h = Hash((uint)index ^ key);
        return high ? h >> 16 : h & 0xFFFF;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> RandomLanes(long index, uint key, bool high)
    {
        var h = Hash((new Vector<uint>((uint)index) + LaneIndex) ^ new Vector<uint>(key));
        return high ? Vector.ShiftRightLogical(h, 16) : h & new Vector<uint>(0xFFFF);
    }

    // ---- bfloat16 ------------------------------------------------------------------------------------------

    /// <summary>Widens <paramref name="n"/> bfloat16 values to float32 (exact).</summary>
    public static void DecodeBf16(ushort* src, float* dst, int n)
    {
        int w = Vector<ushort>.Count, k = 0;
        for (; k + w <= n; k += w)
        {
            Vector.Widen(Unsafe.ReadUnaligned<Vector<ushort>>(src + k), out var lo, out var hi);
            Unsafe.WriteUnaligned(dst + k, Vector.AsVectorSingle(Vector.ShiftLeft(lo, 16)));
            Unsafe.WriteUnaligned(dst + k + w / 2, Vector.AsVectorSingle(Vector.ShiftLeft(hi, 16)));
        }
        for (; k < n; k++) dst[k] = BitConverter.Int32BitsToSingle(src[k] << 16);
    }

    /// <summary>Rounds <paramref name="n"/> float32 values (elements <paramref name="first"/>… of their tensor) to bfloat16, stochastically.</summary>
    public static void EncodeBf16(float* src, ushort* dst, int n, long first, uint key, bool high)
    {
        int w = Vector<uint>.Count, k = 0;
        for (; k + 2 * w <= n; k += 2 * w)
        {
            var lo = Vector.ShiftRightLogical(Vector.AsVectorUInt32(Unsafe.ReadUnaligned<Vector<float>>(src + k)) + RandomLanes(first + k, key, high), 16);
            var hi = Vector.ShiftRightLogical(Vector.AsVectorUInt32(Unsafe.ReadUnaligned<Vector<float>>(src + k + w)) + RandomLanes(first + k + w, key, high), 16);
            Unsafe.WriteUnaligned(dst + k, Vector.Narrow(lo, hi));
        }
        for (; k < n; k++) dst[k] = RoundBf16(src[k], Random16(first + k, key, high));
    }

    /// <summary>One value: the top 16 bits of bits(f) + r.</summary>
    public static ushort RoundBf16(float f, uint random16) => (ushort)((BitConverter.SingleToUInt32Bits(f) + random16) >> 16);

    // ---- int8 ----------------------------------------------------------------------------------------------

    /// <summary>Decodes one block's codes with its scale into float32.</summary>
    public static void DecodeInt8(byte* src, float scale, float* dst, int n, bool signed)
    {
        int w = Vector<byte>.Count, q = w / 4, k = 0;
        var vs = new Vector<float>(scale);
        uint mask = signed ? 0x7Fu : 0xFFu;
        uint bas = signed ? (uint)MBase : (uint)VBase;
        for (; k + w <= n; k += w)
        {
            Vector.Widen(Unsafe.ReadUnaligned<Vector<byte>>(src + k), out var s0, out var s1);
            Vector.Widen(s0, out var u0, out var u1);
            Vector.Widen(s1, out var u2, out var u3);
            Unsafe.WriteUnaligned(dst + k, Decode(u0, vs, mask, bas, signed));
            Unsafe.WriteUnaligned(dst + k + q, Decode(u1, vs, mask, bas, signed));
            Unsafe.WriteUnaligned(dst + k + 2 * q, Decode(u2, vs, mask, bas, signed));
            Unsafe.WriteUnaligned(dst + k + 3 * q, Decode(u3, vs, mask, bas, signed));
        }
        for (; k < n; k++) dst[k] = DecodeInt8(src[k], scale, signed);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Decode(Vector<uint> u, Vector<float> scale, uint mask, uint bas, bool signed)
    {
        var c = u & new Vector<uint>(mask);
        var bits = Vector.ShiftLeft(c + new Vector<uint>(bas), 20);
        if (signed) bits |= Vector.ShiftLeft(u & new Vector<uint>(0x80), 24);
        // Code 0 is +0 · scale: 0 for a finite scale, NaN for a non-finite block (which so stays non-finite).
        bits = Vector.ConditionalSelect(Vector.Equals(c, Vector<uint>.Zero), Vector<uint>.Zero, bits);
        return Vector.AsVectorSingle(bits) * scale;
    }

    /// <summary>One code.</summary>
    public static float DecodeInt8(byte code, float scale, bool signed)
    {
        uint c = signed ? code & 0x7Fu : code;
        if (c == 0) return 0f * scale;
        uint bits = (c + (uint)(signed ? MBase : VBase)) << 20;
        if (signed) bits |= (uint)(code & 0x80) << 24;
        return BitConverter.UInt32BitsToSingle(bits) * scale;
    }

    /// <summary>The block's scale: max |f| over its <paramref name="n"/> values.</summary>
    public static float AbsMax(float* src, int n)
    {
        int w = Vector<float>.Count, k = 0;
        var acc = Vector<float>.Zero;
        for (; k + w <= n; k += w) acc = Vector.Max(acc, Vector.Abs(Unsafe.ReadUnaligned<Vector<float>>(src + k)));
        float max = 0;
        for (int i = 0; i < w; i++) max = Math.Max(max, acc[i]);
        for (; k < n; k++) max = Math.Max(max, Math.Abs(src[k]));
        return max;
    }

    /// <summary>Codes one block (<paramref name="n"/> ≤ 256 values, elements <paramref name="first"/>… of their tensor) with its scale.</summary>
    public static void EncodeInt8(float* src, byte* dst, int n, float scale, long first, uint key, bool high, bool signed)
    {
        if (!(scale > 0) || float.IsInfinity(scale))
        {
            // All zero: codes 0. A non-finite block (policy Propagate) keeps its non-finite scale and codes 0,
            // which decode to NaN: the state stays non-finite, as float32 state would.
            new Span<byte>(dst, n).Clear();
            return;
        }
        int w = Vector<byte>.Count, q = w / 4, k = 0;
        var vs = new Vector<float>(scale);
        for (; k + w <= n; k += w)
        {
            var c0 = Encode(src + k, vs, first + k, key, high, signed);
            var c1 = Encode(src + k + q, vs, first + k + q, key, high, signed);
            var c2 = Encode(src + k + 2 * q, vs, first + k + 2 * q, key, high, signed);
            var c3 = Encode(src + k + 3 * q, vs, first + k + 3 * q, key, high, signed);
            Unsafe.WriteUnaligned(dst + k, Vector.Narrow(Vector.Narrow(c0, c1), Vector.Narrow(c2, c3)));
        }
        for (; k < n; k++) dst[k] = EncodeInt8(src[k], scale, Random16(first + k, key, high), signed);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> Encode(float* p, Vector<float> scale, long index, uint key, bool high, bool signed)
    {
        var f = Unsafe.ReadUnaligned<Vector<float>>(p);
        var y = Vector.AsVectorUInt32(Vector.Abs(f / scale));
        var r = Vector.ShiftLeft(RandomLanes(index, key, high), 4);
        var c = Vector.AsVectorInt32(Vector.ShiftRightLogical(y + r, 20)) - new Vector<int>(signed ? MBase : VBase);
        if (signed)
        {
            c = Vector.Min(Vector.Max(c, Vector<int>.Zero), new Vector<int>(MMax));
            var sign = Vector.ShiftLeft(Vector.ShiftRightLogical(Vector.AsVectorUInt32(f), 31), 7);
            var cu = Vector.AsVectorUInt32(c);
            return Vector.ConditionalSelect(Vector.Equals(cu, Vector<uint>.Zero), Vector<uint>.Zero, cu | sign);
        }
        // v: a positive value never codes to 0 (see the class comment).
        var positive = Vector.GreaterThan(y, Vector<uint>.Zero);
        c = Vector.Min(Vector.Max(c, Vector.ConditionalSelect(Vector.AsVectorInt32(positive), Vector<int>.One, Vector<int>.Zero)), new Vector<int>(VMax));
        return Vector.AsVectorUInt32(c);
    }

    /// <summary>One value (the scalar form of the SIMD encoder, bit for bit).</summary>
    public static byte EncodeInt8(float f, float scale, uint random16, bool signed)
    {
        uint y = BitConverter.SingleToUInt32Bits(Math.Abs(f / scale));
        int c = (int)((y + (random16 << 4)) >> 20) - (signed ? MBase : VBase);
        if (signed)
        {
            c = Math.Clamp(c, 0, MMax);
            return c == 0 ? (byte)0 : (byte)(c | (int)((BitConverter.SingleToUInt32Bits(f) >> 31) << 7));
        }
        return (byte)Math.Clamp(c, y > 0 ? 1 : 0, VMax);
    }
}

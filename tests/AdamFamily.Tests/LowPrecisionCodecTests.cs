using AdamFamily.Execution;
using Xunit.Abstractions;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;
/// <summary>
/// state_precision = bfloat16 / int8, the codecs alone: kernel form against tensor form, bit for bit; round-trip
/// error within the bound the code's definition predicts (computed here independently); unbiased rounding.
/// The whole step with low-precision state is in <see cref="LowPrecisionStateTests"/>.
/// </summary>
public class LowPrecisionCodecTests
{
    // ---- codecs ------------------------------------------------------------------------------------------------

    /// <summary>Values over many decades, both signs, exact zeros, powers of two and a block maximum.</summary>
    private static float[] Values(int n, int seed, bool nonNegative)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double mag = Math.Pow(10, -12 * rng.NextDouble()) * (rng.NextDouble() + 0.5);
            a[i] = (float)(nonNegative || rng.Next(2) == 0 ? mag : -mag);
            if (i % 17 == 3) a[i] = 0f;
            if (i % 29 == 5) a[i] = MathF.Pow(2, -rng.Next(0, 40)) * (nonNegative ? 1 : -1);
        }
        return a;
    }

    [Theory]
    [InlineData(1000, 1u)]
    [InlineData(257, 0xDEADBEEFu)]
    [InlineData(13, 7u)]
    public unsafe void Bf16_KernelEncoder_MatchesTensorEncoder_BitForBit(int n, uint key)
    {
        var f = Values(n, n, nonNegative: false);
        foreach (bool high in new[] { false, true })
        {
            var kernel = new ushort[n];
            fixed (float* src = f) fixed (ushort* dst = kernel) StateCodec.EncodeBf16(src, dst, n, 0, key, high);
            using var buffer = empty(n, ScalarType.BFloat16);
            using var values = tensor(f);
            StateCodecTensors.Encode(values, buffer, null, StatePrecision.BFloat16, signed: true, key, high);
            // Compare as float32 (bfloat16 widens exactly) and against the scalar definition: top 16 bits of bits(f) + r.
            using var asFloat = buffer.to_type(ScalarType.Float32);
            var fromTensor = asFloat.data<float>().ToArray();
            for (int i = 0; i < n; i++)
            {
                uint r = StateCodec.Hash((uint)i ^ key);
                r = high ? r >> 16 : r & 0xFFFF;
                ushort expected = (ushort)((BitConverter.SingleToUInt32Bits(f[i]) + r) >> 16);
                Assert.Equal(expected, kernel[i]);
                Assert.Equal(BitConverter.SingleToUInt32Bits(fromTensor[i]) >> 16, (uint)kernel[i]);
            }
        }
    }

    [Theory]
    [InlineData(1000, 3u, true)]
    [InlineData(1000, 3u, false)]
    [InlineData(300, 0x12345678u, true)]
    [InlineData(300, 0x12345678u, false)]
    public unsafe void Int8_KernelEncoder_MatchesTensorEncoder_BitForBit(int n, uint key, bool signed)
    {
        var f = Values(n, n + 1, nonNegative: !signed);
        long blocks = (n + 255) / 256;
        var kernel = new byte[n];
        var kernelScale = new float[blocks];
        fixed (float* src = f) fixed (byte* dst = kernel)
            for (long b = 0; b < blocks; b++)
            {
                int len = (int)Math.Min(256, n - b * 256);
                kernelScale[b] = StateCodec.AbsMax(src + b * 256, len);
                StateCodec.EncodeInt8(src + b * 256, dst + b * 256, len, kernelScale[b], b * 256, key, high: !signed, signed);
            }
        using var buffer = empty(n, ScalarType.Byte);
        using var scale = empty(blocks, ScalarType.Float32);
        using var values = tensor(f);
        StateCodecTensors.Encode(values, buffer, scale, StatePrecision.Int8, signed, key, high: !signed);
        Assert.Equal(kernel, buffer.data<byte>().ToArray());
        Assert.Equal(kernelScale, scale.data<float>().ToArray());

        // Decoding agrees too.
        var decoded = new float[n];
        fixed (byte* src = kernel) fixed (float* dst = decoded)
            for (long b = 0; b < blocks; b++)
                StateCodec.DecodeInt8(src + b * 256, kernelScale[b], dst + b * 256, (int)Math.Min(256, n - b * 256), signed);
        using var back = StateCodecTensors.Decode(buffer, scale, StatePrecision.Int8, signed, ScalarType.Float32);
        Assert.Equal(decoded, back.data<float>().ToArray());
    }

    /// <summary>
    /// Round trip error per element, against the bound the code's definition gives (computed here from y = |f|/scale):
    /// int8 m (sign + 4 exponent + 3 mantissa bits, y ≥ 2⁻¹⁵): one spacing 2^(⌊log₂y⌋−3); below 9/8·2⁻¹⁵ it may round to 0.
    /// int8 v (5 + 3 bits, y ≥ 2⁻³¹): one spacing; below, the smallest code 9/8·2⁻³¹. bfloat16: one unit in the last place 2^(⌊log₂|f|⌋−7).
    /// The block maximum is exact.
    /// </summary>
    [Theory]
    [InlineData("int8", true)]
    [InlineData("int8", false)]
    [InlineData("bfloat16", true)]
    public unsafe void RoundTripError_IsWithinTheCodesBound(string precision, bool signed)
    {
        const int n = 256 * 8;
        var f = Values(n, 42, nonNegative: !signed);
        var p = StatePrecisions.Parse(precision);
        var decoded = new float[n];
        var scales = new float[n / 256];
        ushort* codes16 = stackalloc ushort[256];
        byte* codes8 = stackalloc byte[256];
        fixed (float* src = f) fixed (float* dst = decoded)
            for (int b = 0; b < n / 256; b++)
            {
                if (p == StatePrecision.BFloat16)
                {
                    var codes = codes16;
                    StateCodec.EncodeBf16(src + b * 256, codes, 256, b * 256, 99u, high: false);
                    StateCodec.DecodeBf16(codes, dst + b * 256, 256);
                }
                else
                {
                    var codes = codes8;
                    scales[b] = StateCodec.AbsMax(src + b * 256, 256);
                    StateCodec.EncodeInt8(src + b * 256, codes, 256, scales[b], b * 256, 99u, high: !signed, signed);
                    StateCodec.DecodeInt8(codes, scales[b], dst + b * 256, 256, signed);
                }
            }
        for (int i = 0; i < n; i++)
        {
            double x = f[i], err = Math.Abs(decoded[i] - x);
            double bound;
            if (p == StatePrecision.BFloat16) bound = x == 0 ? 0 : Math.Pow(2, Math.Floor(Math.Log2(Math.Abs(x))) - 7);
            else
            {
                double s = scales[i / 256];
                double y = Math.Abs(x) / s;
                int minExp = signed ? -15 : -31;
                double smallest = 1.125 * Math.Pow(2, minExp);
                if (y == 0) bound = 0;
                else if (y >= smallest) bound = Math.Pow(2, Math.Floor(Math.Log2(y)) - 3) * s * (1 + 1e-6);
                else bound = smallest * s;
                if (Math.Abs(x) == s) bound = 0; // the block maximum codes exactly
            }
            Assert.True(err <= bound, $"{precision} {(signed ? "m" : "v")} element {i}: |{decoded[i]:R} − {x:R}| = {err:G3} > bound {bound:G3}");
            if (!signed && x > 0) Assert.True(decoded[i] > 0, $"v element {i}: a positive v decoded to 0");
            if (x != 0 && decoded[i] != 0) Assert.Equal(Math.Sign(x), Math.Sign(decoded[i]));
        }
    }

    /// <summary>Stochastic rounding is unbiased: the mean of many roundings of one value (different element indices) is the value.</summary>
    [Theory]
    [InlineData("bfloat16")]
    [InlineData("int8")]
    public unsafe void StochasticRounding_IsUnbiased(string precision)
    {
        const int n = 1 << 16;
        var f = new float[n];
        // 1.0 is the block maximum (int8); the others sit at 30% and 70% between two codes.
        for (int i = 0; i < n; i++) f[i] = i % 256 == 0 ? 1f : (i % 2 == 0 ? 0.3f : 0.7f) * 0.125f + 0.5f;
        var decoded = new float[n];
        ushort* codes16 = stackalloc ushort[256];
        byte* codes8 = stackalloc byte[256];
        fixed (float* src = f) fixed (float* dst = decoded)
            for (int b = 0; b < n / 256; b++)
            {
                if (precision == "bfloat16")
                {
                    var codes = codes16;
                    StateCodec.EncodeBf16(src + b * 256, codes, 256, b * 256, 5u, high: true);
                    StateCodec.DecodeBf16(codes, dst + b * 256, 256);
                }
                else
                {
                    var codes = codes8;
                    StateCodec.EncodeInt8(src + b * 256, codes, 256, 1f, b * 256, 5u, high: true, signed: false);
                    StateCodec.DecodeInt8(codes, 1f, dst + b * 256, 256, signed: false);
                }
            }
        foreach (float target in new[] { 0.3f * 0.125f + 0.5f, 0.7f * 0.125f + 0.5f })
        {
            var picks = Enumerable.Range(0, n).Where(i => i % 256 != 0 && f[i] == target).Select(i => (double)decoded[i]).ToArray();
            double spacing = precision == "bfloat16" ? Math.Pow(2, -8) : 1.0 / 16; // at 0.5..1
            double mean = picks.Average();
            double sd = spacing / 2 / Math.Sqrt(picks.Length); // ≥ the standard error of the mean
            Assert.True(Math.Abs(mean - target) < 5 * sd, $"{precision}: mean of {picks.Length} roundings of {target} is {mean} (±{sd:G2})");
            Assert.True(picks.Distinct().Count() == 2, $"{precision}: {target} should round to both neighbours");
        }
    }

    // ---- the optimizer ----------------------------------------------------------------------------------------
}

using AdamFamily.Rules;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Execution;

/// <summary>
/// <see cref="StateCodec"/>'s formats and stochastic rounding in TorchSharp tensor ops, for the tensor-op path
/// (any device) and for creating buffers. Bit manipulation is written arithmetically (frexp/ldexp in float64,
/// integer hashing in int64), because TorchSharp cannot reinterpret a tensor's bits as another dtype; for
/// float32 values it gives the same bits as the kernel's integer form (tested).
/// </summary>
internal static class StateCodecTensors
{
    private const long Mask32 = 0xFFFFFFFFL;

    /// <summary>The dtype a buffer is stored in.</summary>
    public static ScalarType StorageType(StatePrecision p, ScalarType parameterType) => p switch
    {
        StatePrecision.BFloat16 => ScalarType.BFloat16,
        StatePrecision.Int8 => ScalarType.Byte,
        _ => parameterType,
    };

    /// <summary>int8 blocks of a tensor of <paramref name="numel"/> elements.</summary>
    public static long Blocks(long numel) => (numel + StateCodec.Block - 1) / StateCodec.Block;

    /// <summary>
    /// A new buffer for <paramref name="param"/> filled with <paramref name="value"/> (and its block scales for int8);
    /// <paramref name="floatType"/> is the dtype of float32-precision state (the parameter's, or float32 for half precision).
    /// </summary>
    public static (Tensor Buffer, Tensor? Scale) Create(Tensor param, ScalarType floatType, StatePrecision p, double value, bool signed)
    {
        switch (p)
        {
            case StatePrecision.Float32:
                return ((value == 0 ? zeros_like(param, dtype: floatType) : full_like(param, value, dtype: floatType)).DetachFromDisposeScope(), null);
            case StatePrecision.BFloat16:
                // An initial value is rounded to nearest (it is a setting, not an update).
                return (full(param.shape, value, ScalarType.BFloat16, param.device).DetachFromDisposeScope(), null);
            default:
                long blocks = Blocks(param.numel());
                // A constant block codes exactly: scale = |value|, every code the block maximum (or 0).
                byte code = value == 0 ? (byte)0 : signed ? (byte)(StateCodec.MMax | (value < 0 ? 0x80 : 0)) : (byte)StateCodec.VMax;
                var buffer = full(param.shape, code, ScalarType.Byte, param.device).DetachFromDisposeScope();
                var scale = full(new[] { blocks }, Math.Abs((float)value), ScalarType.Float32, param.device).DetachFromDisposeScope();
                return (buffer, scale);
        }
    }

    /// <summary>The 16 random bits of every element (int64, flat), as <see cref="StateCodec.Random16(long, uint, bool)"/>.</summary>
    public static Tensor Random16(long numel, Device device, uint key, bool high)
    {
        using var scope = NewDisposeScope();
        var x = arange(numel, ScalarType.Int64, device).bitwise_and_(Mask32).bitwise_xor_((long)key);
        x = x.bitwise_xor(x.bitwise_right_shift(16)).mul_(0x7feb352dL).bitwise_and_(Mask32);
        x = x.bitwise_xor(x.bitwise_right_shift(15)).mul_(0x846ca68bL).bitwise_and_(Mask32);
        x = x.bitwise_xor(x.bitwise_right_shift(16));
        x = high ? x.bitwise_right_shift(16) : x.bitwise_and(0xFFFFL);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The stored buffer as a new tensor of <paramref name="dtype"/> (exact).</summary>
    public static Tensor Decode(Tensor buffer, Tensor? scale, StatePrecision p, bool signed, ScalarType dtype)
    {
        if (p != StatePrecision.Int8) return buffer.to_type(dtype);
        using var scope = NewDisposeScope();
        long n = buffer.numel();
        long blocks = Blocks(n);
        var code = buffer.reshape(-1).to_type(ScalarType.Int64);
        var c = signed ? code.bitwise_and(0x7FL) : code;
        var biased = c.add(signed ? StateCodec.MBase : StateCodec.VBase);
        var exponent = biased.bitwise_right_shift(3).sub_(127);
        var mantissa = biased.bitwise_and(7L).to_type(ScalarType.Float64).div_(8.0).add_(1.0);
        var value = ldexp(mantissa, exponent).to_type(ScalarType.Float32);
        value = where(c.eq(0L), zeros_like(value), value);
        if (signed) value = where(code.bitwise_and(0x80L).ne(0L), value.neg(), value);
        var padded = Pad(value, blocks).view(blocks, StateCodec.Block).mul_(scale!.unsqueeze(1));
        var result = padded.reshape(-1).narrow(0, 0, n).reshape(buffer.shape).to_type(dtype);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Stores <paramref name="values"/> into <paramref name="buffer"/> (and <paramref name="scale"/>), rounding stochastically with the given key.</summary>
    public static void Encode(Tensor values, Tensor buffer, Tensor? scale, StatePrecision p, bool signed, uint key, bool high)
    {
        using var scope = NewDisposeScope();
        var f = values.to_type(ScalarType.Float32).reshape(-1);
        long n = f.numel();
        var r = Random16(n, f.device, key, high).to_type(ScalarType.Float64).div_(65536.0);
        if (p == StatePrecision.BFloat16)
        {
            var a = f.abs().to_type(ScalarType.Float64);
            var (_, e) = frexp(a);
            var ulpExp = e.to_type(ScalarType.Int64).sub_(8).clamp_(min: -133);
            var ulp = ldexp(ones_like(a), ulpExp);
            var q = a.div(ulp).add_(r).floor_().mul_(ulp);
            q = where(f.lt(0), q.neg(), q).to_type(ScalarType.Float32);
            q = where(f.isfinite(), q, f);
            buffer.copy_(q.to_type(ScalarType.BFloat16).reshape(buffer.shape));
            return;
        }
        long blocks = Blocks(n);
        var fb = Pad(f, blocks).view(blocks, StateCodec.Block);
        var s = fb.abs().amax(new long[] { 1 });
        var usable = s.gt(0).logical_and_(s.isfinite());
        var denom = where(usable, s, ones_like(s));
        var y = fb.mul(denom.reciprocal().unsqueeze(1)).abs().to_type(ScalarType.Float64).reshape(-1).narrow(0, 0, n);
        var (_, ey) = frexp(y);
        var e64 = ey.to_type(ScalarType.Int64);
        var nq = y.div(ldexp(ones_like(y), e64.sub(4))).add_(r).floor_().to_type(ScalarType.Int64);
        var code = e64.add(126).mul_(8).add_(nq).sub_(8 + (signed ? StateCodec.MBase : StateCodec.VBase));
        code = where(y.eq(0), zeros_like(code), code);
        if (signed)
        {
            code = code.clamp(0, StateCodec.MMax);
            code = where(code.ne(0L).logical_and_(f.lt(0)), code.bitwise_or(0x80L), code);
        }
        else
        {
            var lower = y.gt(0).to_type(ScalarType.Int64);
            code = maximum(code, lower).clamp_(max: StateCodec.VMax);
        }
        var usableElements = usable.unsqueeze(1).expand(blocks, StateCodec.Block).reshape(-1).narrow(0, 0, n);
        code = where(usableElements, code, zeros_like(code));
        buffer.copy_(code.to_type(ScalarType.Byte).reshape(buffer.shape));
        scale!.copy_(s);
    }

    private static Tensor Pad(Tensor flat, long blocks)
    {
        long pad = blocks * StateCodec.Block - flat.numel();
        return pad == 0 ? flat : cat(new[] { flat, zeros(new[] { pad }, flat.dtype, flat.device) });
    }
}

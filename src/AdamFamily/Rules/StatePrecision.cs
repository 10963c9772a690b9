namespace AdamFamily.Rules;

/// <summary>
/// How the moment buffers (m, v and AMSGrad's v_max) are stored between steps. Arithmetic is always done
/// in the parameter's precision; only storage changes. See docs/low-precision-state.md.
/// </summary>
public enum StatePrecision
{
    /// <summary>The parameter's own dtype (float32 or float64): the exact, PyTorch-parity behaviour. The default.</summary>
    Float32,
    /// <summary>bfloat16 buffers (2 bytes per element), written back with stochastic rounding from a counter-based generator.</summary>
    BFloat16,
    /// <summary>
    /// 8-bit codes in blocks of 256 elements with one float32 scale (the block's absolute maximum) per block and
    /// buffer: m as sign + a 7-bit minifloat (4 exponent, 3 mantissa bits), v as an unsigned 8-bit minifloat
    /// (5 exponent, 3 mantissa bits); stochastic rounding as for bfloat16.
    /// </summary>
    Int8,
}

/// <summary>Names and sizes of <see cref="StatePrecision"/>.</summary>
public static class StatePrecisions
{
    /// <summary>Elements per quantisation block of <see cref="StatePrecision.Int8"/> (one float32 scale each).</summary>
    public const int BlockSize = 256;

    /// <summary>The option-string name: float32, bfloat16 or int8.</summary>
    public static string Name(this StatePrecision p) => p switch
    {
        StatePrecision.BFloat16 => "bfloat16",
        StatePrecision.Int8 => "int8",
        _ => "float32",
    };

    /// <summary>Parses float32 (fp32), bfloat16 (bf16) or int8; the error names the option and the valid values.</summary>
    public static StatePrecision Parse(string value, string key = "state_precision") => value.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => StatePrecision.Float32,
        "bfloat16" or "bf16" => StatePrecision.BFloat16,
        "int8" or "8bit" => StatePrecision.Int8,
        _ => throw new ArgumentException($"{key} = '{value}' is not one of: float32, bfloat16, int8.", key),
    };

    /// <summary>
    /// Bytes of optimizer state per element of one moment buffer: the parameter's element size for
    /// <see cref="StatePrecision.Float32"/>, 2 for bfloat16, 1 + 4/256 (the code plus its share of the block scale) for int8.
    /// </summary>
    public static double BytesPerElement(this StatePrecision p, int parameterElementSize) => p switch
    {
        StatePrecision.BFloat16 => 2,
        StatePrecision.Int8 => 1 + 4.0 / BlockSize,
        _ => parameterElementSize,
    };
}

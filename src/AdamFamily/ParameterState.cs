using AdamFamily.Checkpoints;
using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily;

/// <summary>
/// The state of one parameter tensor: the step scalars and the moment buffers m, v (and v_max), each of
/// the parameter's shape and device. Their dtype is the parameter's, except for half-precision parameters
/// (float16, bfloat16), whose state is float32: the step is computed in float32 and rounded once into the
/// parameter, as PyTorch's fused paths do. With <see cref="AfmdwOptions.StatePrecision"/> bfloat16 or int8 the
/// buffers hold bfloat16 values or 8-bit codes with per-block scales (docs/low-precision-state.md). Buffers a rule
/// does not use are null.
/// </summary>
public sealed class ParameterState : OptimizerState, IDisposable
{
    private const int FormatVersion = 2; // 2: + state precision, rounding seed, int8 block scales

    internal ParameterState(Parameter parameter) : base(parameter) { _param = parameter; Shape = parameter.shape; }

    private readonly Parameter _param;

    /// <summary>The parameter this state belongs to.</summary>
    public Parameter Parameter => _param;
    /// <summary>The parameter's shape when this state was made: the buffers' shape (a parameter resized since is refused by the step).</summary>
    internal long[] Shape { get; }
    /// <summary>The step count and running products the step coefficients depend on.</summary>
    public StepScalars Scalars { get; internal set; } = StepScalars.Initial;
    /// <summary>The number of steps this parameter has taken.</summary>
    public long Step => Scalars.Step;
    /// <summary>The first moment m (null when the rule keeps none; for low-precision state its bfloat16 values or int8 codes).</summary>
    public Tensor? M { get; private set; }
    /// <summary>The second moment v (null when the rule keeps none; stored as <see cref="M"/>).</summary>
    public Tensor? V { get; private set; }
    /// <summary>AMSGrad's running maximum of v (null otherwise; stored as <see cref="M"/>).</summary>
    public Tensor? VMax { get; private set; }
    /// <summary>int8 state: the float32 scale (absolute maximum) of each block of 256 elements of m; otherwise null.</summary>
    public Tensor? MScale { get; private set; }
    /// <summary>int8 state: the block scales of v.</summary>
    public Tensor? VScale { get; private set; }
    /// <summary>int8 state: the block scales of v_max.</summary>
    public Tensor? VMaxScale { get; private set; }

    /// <summary>How the buffers are stored (fixed when they are created).</summary>
    public StatePrecision Precision { get; private set; }

    /// <summary>The seed of this parameter's stochastic-rounding bits: its ordinal in the optimizer (saved in checkpoints).</summary>
    public ulong RoundingSeed { get; internal set; }

    /// <summary>Bytes the moment buffers (and int8 block scales) occupy.</summary>
    public long StateBytes
    {
        get
        {
            long sum = 0;
            foreach (var t in new[] { M, V, VMax, MScale, VScale, VMaxScale })
                if (t is not null) sum += t.numel() * t.element_size();
            return sum;
        }
    }

    /// <summary>The dtype of the state (and of the step's arithmetic) for a parameter of dtype <paramref name="parameter"/>.</summary>
    public static ScalarType StateType(ScalarType parameter) => parameter is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : parameter;

    /// <summary>Creates the buffers the options' rule needs (TorchSharp's hook; the optimizer calls <see cref="EnsureBuffers"/>).</summary>
    public override void Initialize(OptimizerOptions options) => EnsureBuffers(((AfmdwOptions)options).ToRule(), ((AfmdwOptions)options).InitialAccumulator ?? 0);

    /// <summary>
    /// Creates the buffers the rule needs and lacks (at construction, or after a rule change). Returns at
    /// once, allocating nothing, when they are all there — the case of every step.
    /// </summary>
    internal void EnsureBuffers(UpdateRule rule, double initialAccumulator)
    {
        bool lacks = (rule.HasFirstMoment && M is null) || (rule.Estimator is not null && V is null) || (rule.Estimator is { KeepsMax: true } && VMax is null);
        if (!lacks && rule.StatePrecision == Precision) return;
        if (rule.StatePrecision != Precision && (M is not null || V is not null || VMax is not null))
            throw new InvalidOperationException(
                $"state_precision changed from {Precision.Name()} to {rule.StatePrecision.Name()} after the optimizer state was created; " +
                "the state is not converted silently. Create a new optimizer with the new state_precision.");
        Precision = rule.StatePrecision;
        using var _ = no_grad();
        var dtype = StateType(_param.dtype);
        if (rule.HasFirstMoment && M is null) (M, MScale) = StateCodecTensors.Create(_param, dtype, Precision, 0.0, signed: true);
        if (rule.Estimator is not null && V is null) (V, VScale) = StateCodecTensors.Create(_param, dtype, Precision, initialAccumulator, signed: false);
        if (rule.Estimator is { KeepsMax: true } && VMax is null)
            (VMax, VMaxScale) = StateCodecTensors.Create(_param, dtype, Precision, V is null ? 0.0 : initialAccumulator, signed: false);
    }

    /// <summary>Writes this state as a checkpoint record (used by TorchSharp's base-class save and by <see cref="AfmdwOptimizer.SaveCheckpoint(string)"/>).</summary>
    public override void SaveStateDict(BinaryWriter writer)
    {
        RecordHeader.Write(writer, RecordHeader.State, FormatVersion);
        writer.Write(Scalars.Step); writer.Write(Scalars.Beta1Product); writer.Write(Scalars.Beta2Product); writer.Write(Scalars.MuProduct);
        writer.Write(Precision.Name());
        writer.Write(RoundingSeed);
        WriteBuffer(writer, M);
        WriteBuffer(writer, V);
        WriteBuffer(writer, VMax);
        if (Precision == StatePrecision.Int8)
        {
            WriteBuffer(writer, MScale);
            WriteBuffer(writer, VScale);
            WriteBuffer(writer, VMaxScale);
        }
    }

    /// <summary>
    /// Not supported: TorchSharp's <c>OptimizerHelper.load_state_dict</c> loads state by state and cannot undo
    /// a failure half-way. Throws before anything changes; use <see cref="AfmdwOptimizer.LoadCheckpoint(string)"/>.
    /// </summary>
    public override void LoadStateDict(BinaryReader reader) => throw AfmdwOptimizer.BaseLoadNotSupported();

    /// <summary>
    /// Reads a state for <paramref name="parameter"/> into new tensors, checking the header, the shape and
    /// dtype of every buffer before allocating it, and the contents: finite step products and moments, no
    /// negative second moment.
    /// </summary>
    internal static ParameterState ReadFrom(BinaryReader reader, Parameter parameter)
    {
        int version = RecordHeader.Read(reader, RecordHeader.State, FormatVersion, "parameter state", "the checkpoint was written by another optimizer library.");
        var s = new ParameterState(parameter);
        try
        {
            var scalars = new StepScalars(reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
            if (scalars.Step < 0) throw new InvalidDataException($"the checkpoint holds a negative step count {scalars.Step}.");
            if (!(scalars.Beta1Product is >= 0 and <= 1) || !(scalars.Beta2Product is >= 0 and <= 1) || !double.IsFinite(scalars.MuProduct))
                throw new InvalidDataException($"the checkpoint holds impossible running products (β₁: {scalars.Beta1Product}, β₂: {scalars.Beta2Product}, μ: {scalars.MuProduct}).");
            s.Scalars = scalars;
            if (version >= 2)
            {
                var precision = reader.ReadString();
                try { s.Precision = StatePrecisions.Parse(precision); }
                catch (ArgumentException) { throw new InvalidDataException($"the checkpoint holds an unknown state precision '{precision}'."); }
                s.RoundingSeed = reader.ReadUInt64();
            }
            var stored = StateCodecTensors.StorageType(s.Precision, StateType(parameter.dtype));
            long[] scaleShape = { StateCodecTensors.Blocks(parameter.numel()) };
            s.M = ReadBuffer(reader, parameter, "m", stored, parameter.shape, nonNegative: false);
            s.V = ReadBuffer(reader, parameter, "v", stored, parameter.shape, nonNegative: true);
            s.VMax = ReadBuffer(reader, parameter, "v_max", stored, parameter.shape, nonNegative: true);
            if (s.Precision == StatePrecision.Int8)
            {
                s.MScale = ReadBuffer(reader, parameter, "m scale", ScalarType.Float32, scaleShape, nonNegative: true);
                s.VScale = ReadBuffer(reader, parameter, "v scale", ScalarType.Float32, scaleShape, nonNegative: true);
                s.VMaxScale = ReadBuffer(reader, parameter, "v_max scale", ScalarType.Float32, scaleShape, nonNegative: true);
                if ((s.M is null) != (s.MScale is null) || (s.V is null) != (s.VScale is null) || (s.VMax is null) != (s.VMaxScale is null))
                    throw new InvalidDataException("the checkpoint's int8 state lacks the block scales of a buffer.");
            }
            return s;
        }
        catch { s.Dispose(); throw; }
    }

    // Buffers are stored as: present flag, dtype code, rank, dims, raw little-endian bytes. The header is
    // checked against the parameter before anything is allocated, so a corrupt file cannot ask for
    // gigabytes or yield a tensor of the wrong shape.
    private static void WriteBuffer(BinaryWriter writer, Tensor? t)
    {
        writer.Write(t is not null);
        if (t is null) return;
        writer.Write((int)t.dtype);
        writer.Write(t.shape.Length);
        foreach (var d in t.shape) writer.Write(d);
        using var cpu = t.cpu().contiguous();
        writer.Write(cpu.bytes);
    }

    private static Tensor? ReadBuffer(BinaryReader reader, Parameter parameter, string name, ScalarType expected, long[] expectedShape, bool nonNegative)
    {
        if (!reader.ReadBoolean()) return null;
        var dtype = (ScalarType)reader.ReadInt32();
        int rank = reader.ReadInt32();
        if (rank < 0 || rank > 64) throw new InvalidDataException($"the stored {name} buffer has an impossible rank {rank}.");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = reader.ReadInt64();
        if (dtype != expected || !shape.SequenceEqual(expectedShape))
            throw new InvalidDataException(
                $"the stored {name} buffer is {dtype}[{string.Join(",", shape)}] but this parameter's state needs {expected}[{string.Join(",", expectedShape)}]: the checkpoint belongs to another model or optimizer configuration.");
        var t = empty(shape, dtype, CPU).DetachFromDisposeScope();
        try
        {
            var span = t.bytes;
            int read = 0;
            while (read < span.Length)
            {
                int n = reader.Read(span[read..]);
                if (n == 0) throw new EndOfStreamException($"the {name} buffer ends after {read} of {span.Length} bytes");
                read += n;
            }
            if (ContentProblem(t, name, nonNegative) is { } problem) throw new InvalidDataException(problem);
            if (parameter.device.type == TorchSharp.DeviceType.CPU) return t;
            var moved = t.to(parameter.device).DetachFromDisposeScope();
            t.Dispose();
            return moved;
        }
        catch { t.Dispose(); throw; }
    }

    /// <summary>What is wrong with a moment buffer's values (NaN/±∞, or a negative second moment), or null.</summary>
    internal static string? ContentProblem(Tensor t, string name, bool nonNegative)
    {
        using var scope = NewDisposeScope();
        if (!t.isfinite().all().item<bool>()) return $"the {name} buffer holds NaN or infinite values.";
        if (nonNegative && t.lt(0).any().item<bool>()) return $"the {name} buffer holds negative values (a second moment is never negative).";
        return null;
    }

    /// <summary>Copies another state's scalars and buffers (to this parameter's device).</summary>
    public override void LoadStateDict(OptimizerState source)
    {
        if (source is not ParameterState s)
            throw new InvalidDataException($"cannot load a {source.GetType().Name} into an AdamFamily parameter state.");
        Scalars = s.Scalars;
        Precision = s.Precision;
        RoundingSeed = s.RoundingSeed;
        M = Replace(M, s.M);
        V = Replace(V, s.V);
        VMax = Replace(VMax, s.VMax);
        MScale = Replace(MScale, s.MScale);
        VScale = Replace(VScale, s.VScale);
        VMaxScale = Replace(VMaxScale, s.VMaxScale);
    }

    private Tensor? Replace(Tensor? mine, Tensor? theirs)
    {
        if (theirs is null) { mine?.Dispose(); return null; }
        using var _ = no_grad();
        if (mine is not null && mine.dtype == theirs.dtype && mine.shape.SequenceEqual(theirs.shape) && SameDevice(mine.device, _param.device))
        {
            mine.copy_(theirs);
            return mine;
        }
        mine?.Dispose();
        return theirs.to(_param.device, copy: true).DetachFromDisposeScope();
    }

    /// <summary>Whether the other state has the same scalars and (allclose) buffers.</summary>
    public override bool ApproximatelyEquals(OptimizerState other)
    {
        if (other is not ParameterState o || o.Scalars != Scalars || o.Precision != Precision) return false;
        static bool Same(Tensor? a, Tensor? b) => (a is null && b is null)
            || (a is not null && b is not null && a.dtype == b.dtype && (a.is_floating_point() ? a.allclose(b) : a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>()));
        return Same(M, o.M) && Same(V, o.V) && Same(VMax, o.VMax) && Same(MScale, o.MScale) && Same(VScale, o.VScale) && Same(VMaxScale, o.VMaxScale);
    }

    /// <summary>Moves the buffers to <paramref name="device"/>.</summary>
    public override void to(Device device)
    {
        M = Move(M, device); V = Move(V, device); VMax = Move(VMax, device);
        MScale = Move(MScale, device); VScale = Move(VScale, device); VMaxScale = Move(VMaxScale, device);
    }

    private static Tensor? Move(Tensor? t, Device device)
    {
        if (t is null || SameDevice(t.device, device)) return t;
        var moved = t.to(device).DetachFromDisposeScope();
        t.Dispose();
        return moved;
    }

    // TorchSharp's Device has no value equality (== compares references, and tensor.device is a new object each
    // time), so compare type and index; every CPU device is the same device.
    private static bool SameDevice(Device a, Device b)
        => a.type == b.type && (a.type == DeviceType.CPU || a.index == b.index);

    /// <summary>Releases the buffers.</summary>
    public void Dispose()
    {
        M?.Dispose(); V?.Dispose(); VMax?.Dispose(); MScale?.Dispose(); VScale?.Dispose(); VMaxScale?.Dispose();
        M = V = VMax = MScale = VScale = VMaxScale = null;
    }
}

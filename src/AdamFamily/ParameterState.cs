using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily;

/// <summary>
/// The state of one parameter tensor: the step scalars and the moment buffers m, v (and v_max), each of
/// the parameter's shape, dtype and device. Buffers a rule does not use are null.
/// </summary>
public sealed class ParameterState : OptimizerState, IDisposable
{
    private const int Magic = 0x534D4641; // "AFMS"
    private const int FormatVersion = 2; // 2: + state precision, rounding seed, int8 scales

    internal ParameterState(Parameter parameter) : base(parameter) { _param = parameter; }

    private readonly Parameter _param;

    public Parameter Parameter => _param;
    public StepScalars Scalars { get; internal set; } = StepScalars.Initial;
    /// <summary>The number of steps this parameter has taken.</summary>
    public long Step => Scalars.Step;
    /// <summary>The first moment m (for low-precision state: its bfloat16 values or int8 codes).</summary>
    public Tensor? M { get; private set; }
    /// <summary>The second moment v (as <see cref="M"/>).</summary>
    public Tensor? V { get; private set; }
    /// <summary>AMSGrad's running maximum of v (as <see cref="M"/>).</summary>
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

    /// <summary>Bytes the moment buffers (and int8 scales) occupy.</summary>
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
        if (rule.HasFirstMoment && M is null) (M, MScale) = StateCodecTensors.Create(_param, Precision, 0.0, signed: true);
        if (rule.Estimator is not null && V is null) (V, VScale) = StateCodecTensors.Create(_param, Precision, initialAccumulator, signed: false);
        if (rule.Estimator is { KeepsMax: true } && VMax is null)
            (VMax, VMaxScale) = StateCodecTensors.Create(_param, Precision, V is null ? 0.0 : initialAccumulator, signed: false);
    }

    public override void SaveStateDict(BinaryWriter writer)
    {
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Scalars.Step); writer.Write(Scalars.Beta1Product); writer.Write(Scalars.Beta2Product); writer.Write(Scalars.MuProduct);
        writer.Write((int)Precision);
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

    public override void LoadStateDict(BinaryReader reader)
    {
        using var staged = ReadFrom(reader, _param);
        LoadStateDict(staged);
    }

    /// <summary>Reads a state for <paramref name="parameter"/> into new tensors, checking shape and dtype.</summary>
    internal static ParameterState ReadFrom(BinaryReader reader, Parameter parameter)
    {
        int magic = reader.ReadInt32();
        if (magic != Magic)
            throw new InvalidDataException("the parameter state is not in AdamFamily's format (no AFMS marker).");
        int version = reader.ReadInt32();
        if (version < 1 || version > FormatVersion)
            throw new InvalidDataException($"the checkpoint's state format version is {version}; this AdamFamily reads versions 1 to {FormatVersion}.");
        var s = new ParameterState(parameter);
        try
        {
            var scalars = new StepScalars(reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble());
            if (scalars.Step < 0) throw new InvalidDataException($"the checkpoint holds a negative step count {scalars.Step}.");
            s.Scalars = scalars;
            if (version >= 2)
            {
                int precision = reader.ReadInt32();
                if (!Enum.IsDefined(typeof(StatePrecision), precision))
                    throw new InvalidDataException($"the checkpoint holds an unknown state precision code {precision}.");
                s.Precision = (StatePrecision)precision;
                s.RoundingSeed = reader.ReadUInt64();
            }
            if (s.Precision != StatePrecision.Float32 && parameter.dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.BFloat16 or ScalarType.Float16))
                throw new InvalidDataException($"the checkpoint holds {s.Precision.Name()} state for a {parameter.dtype} parameter.");
            var stateType = StateCodecTensors.StorageType(s.Precision, parameter.dtype);
            long[] scaleShape = { StateCodecTensors.Blocks(parameter.numel()) };
            s.M = ReadBuffer(reader, parameter, "m", stateType, parameter.shape);
            s.V = ReadBuffer(reader, parameter, "v", stateType, parameter.shape);
            s.VMax = ReadBuffer(reader, parameter, "v_max", stateType, parameter.shape);
            if (s.Precision == StatePrecision.Int8)
            {
                s.MScale = ReadBuffer(reader, parameter, "m scale", ScalarType.Float32, scaleShape);
                s.VScale = ReadBuffer(reader, parameter, "v scale", ScalarType.Float32, scaleShape);
                s.VMaxScale = ReadBuffer(reader, parameter, "v_max scale", ScalarType.Float32, scaleShape);
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

    private static Tensor? ReadBuffer(BinaryReader reader, Parameter parameter, string name, ScalarType expectedType, long[] expectedShape)
    {
        if (!reader.ReadBoolean()) return null;
        var dtype = (ScalarType)reader.ReadInt32();
        int rank = reader.ReadInt32();
        if (rank < 0 || rank > 64) throw new InvalidDataException($"the stored {name} buffer has an impossible rank {rank}.");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = reader.ReadInt64();
        if (dtype != expectedType || !shape.SequenceEqual(expectedShape))
            throw new InvalidDataException(
                $"the stored {name} buffer is {dtype}[{string.Join(",", shape)}] but {expectedType}[{string.Join(",", expectedShape)}] is expected for the parameter {parameter.dtype}[{string.Join(",", parameter.shape)}]: the checkpoint belongs to another model or optimizer configuration.");
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
            if (parameter.device.type == TorchSharp.DeviceType.CPU) return t;
            var moved = t.to(parameter.device).DetachFromDisposeScope();
            t.Dispose();
            return moved;
        }
        catch { t.Dispose(); throw; }
    }

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
        if (mine is not null && mine.dtype == theirs.dtype && mine.shape.SequenceEqual(theirs.shape) && mine.device == _param.device)
        {
            mine.copy_(theirs);
            return mine;
        }
        mine?.Dispose();
        return theirs.to(_param.device, copy: true).DetachFromDisposeScope();
    }

    public override bool ApproximatelyEquals(OptimizerState other)
    {
        if (other is not ParameterState o || o.Scalars != Scalars || o.Precision != Precision) return false;
        static bool Same(Tensor? a, Tensor? b) => (a is null && b is null) || (a is not null && b is not null && a.dtype == b.dtype && (a.is_floating_point() ? a.allclose(b) : (a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>())));
        return Same(M, o.M) && Same(V, o.V) && Same(VMax, o.VMax) && Same(MScale, o.MScale) && Same(VScale, o.VScale) && Same(VMaxScale, o.VMaxScale);
    }

    public override void to(Device device)
    {
        M = Move(M, device); V = Move(V, device); VMax = Move(VMax, device);
        MScale = Move(MScale, device); VScale = Move(VScale, device); VMaxScale = Move(VMaxScale, device);
    }

    private static Tensor? Move(Tensor? t, Device device)
    {
        if (t is null || t.device == device) return t;
        var moved = t.to(device).DetachFromDisposeScope();
        t.Dispose();
        return moved;
    }

    public void Dispose()
    {
        M?.Dispose(); V?.Dispose(); VMax?.Dispose(); MScale?.Dispose(); VScale?.Dispose(); VMaxScale?.Dispose();
        M = V = VMax = MScale = VScale = VMaxScale = null;
    }
}

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
    private const int FormatVersion = 1;

    internal ParameterState(Parameter parameter) : base(parameter) { _param = parameter; }

    private readonly Parameter _param;

    public Parameter Parameter => _param;
    public StepScalars Scalars { get; internal set; } = StepScalars.Initial;
    /// <summary>The number of steps this parameter has taken.</summary>
    public long Step => Scalars.Step;
    public Tensor? M { get; private set; }
    public Tensor? V { get; private set; }
    public Tensor? VMax { get; private set; }

    public override void Initialize(OptimizerOptions options) => EnsureBuffers(((AfmdwOptions)options).ToRule(), ((AfmdwOptions)options).InitialAccumulator ?? 0);

    /// <summary>
    /// Creates the buffers the rule needs and lacks (at construction, or after a rule change). Returns at
    /// once, allocating nothing, when they are all there — the case of every step.
    /// </summary>
    internal void EnsureBuffers(UpdateRule rule, double initialAccumulator)
    {
        bool lacks = (rule.HasFirstMoment && M is null) || (rule.Estimator is not null && V is null) || (rule.Estimator is { KeepsMax: true } && VMax is null);
        if (!lacks) return;
        using var _ = no_grad();
        if (rule.HasFirstMoment && M is null) M = zeros_like(_param).DetachFromDisposeScope();
        if (rule.Estimator is not null && V is null)
            V = (initialAccumulator == 0 ? zeros_like(_param) : full_like(_param, initialAccumulator)).DetachFromDisposeScope();
        if (rule.Estimator is { KeepsMax: true } && VMax is null)
            VMax = (V is null ? zeros_like(_param) : V.clone()).DetachFromDisposeScope();
    }

    public override void SaveStateDict(BinaryWriter writer)
    {
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Scalars.Step); writer.Write(Scalars.Beta1Product); writer.Write(Scalars.Beta2Product); writer.Write(Scalars.MuProduct);
        WriteBuffer(writer, M);
        WriteBuffer(writer, V);
        WriteBuffer(writer, VMax);
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
            s.M = ReadBuffer(reader, parameter, "m");
            s.V = ReadBuffer(reader, parameter, "v");
            s.VMax = ReadBuffer(reader, parameter, "v_max");
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

    private static Tensor? ReadBuffer(BinaryReader reader, Parameter parameter, string name)
    {
        if (!reader.ReadBoolean()) return null;
        var dtype = (ScalarType)reader.ReadInt32();
        int rank = reader.ReadInt32();
        if (rank < 0 || rank > 64) throw new InvalidDataException($"the stored {name} buffer has an impossible rank {rank}.");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++) shape[i] = reader.ReadInt64();
        if (dtype != parameter.dtype || !shape.SequenceEqual(parameter.shape))
            throw new InvalidDataException(
                $"the stored {name} buffer is {dtype}[{string.Join(",", shape)}] but the parameter is {parameter.dtype}[{string.Join(",", parameter.shape)}]: the checkpoint belongs to another model or optimizer configuration.");
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
        M = Replace(M, s.M);
        V = Replace(V, s.V);
        VMax = Replace(VMax, s.VMax);
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

    public override bool ApproximatelyEquals(OptimizerState other)
    {
        if (other is not ParameterState o || o.Scalars != Scalars) return false;
        static bool Same(Tensor? a, Tensor? b) => (a is null && b is null) || (a is not null && b is not null && a.allclose(b));
        return Same(M, o.M) && Same(V, o.V) && Same(VMax, o.VMax);
    }

    public override void to(Device device)
    {
        M = Move(M, device); V = Move(V, device); VMax = Move(VMax, device);
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

    public void Dispose()
    {
        M?.Dispose(); V?.Dispose(); VMax?.Dispose();
        M = V = VMax = null;
    }
}

using AdamFamily.Rules;
using AdamFamily.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch.optim;

namespace AdamFamily;

// Checkpoints. Written with SaveCheckpoint: a zero byte, the AFMC container header (version 2), the body
// TorchSharp's own format would hold (class name, group and state counts, one options record per group,
// one state record per parameter), then the CRC-32 of the body. Read with LoadCheckpoint: the container
// above, or version 1 (the body alone, as TorchSharp's base-class save_state_dict writes it). TorchSharp's
// base-class load_state_dict(path/reader) is refused by the records before anything changes.
public partial class AfmdwOptimizer
{
    private const int ContainerVersion = 2;

    /// <summary>
    /// Saves a checkpoint to a file atomically: written to a temporary file beside it, flushed to disk, then
    /// renamed over <paramref name="path"/>, so a crash leaves the previous checkpoint intact.
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        // Named for the caller's path (not the temporary file's, which is what the OS would report).
        if (Directory.Exists(full)) throw new IOException($"{GetType().Name}: cannot save checkpoint '{path}': it is a folder; give a file name.");
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{GetType().Name}: cannot save checkpoint '{path}': its folder '{folder}' does not exist.");
        var tmp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                SaveCheckpoint(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes a checkpoint (format version 2, with its CRC-32) to a stream.</summary>
    public void SaveCheckpoint(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.WriteByte(0); // version-1 files start with the class name's non-zero length
        using var raw = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        RecordHeader.Write(raw, RecordHeader.Container, ContainerVersion);
        raw.Flush();
        var hashed = new Crc32Stream(stream);
        using (var writer = new BinaryWriter(hashed, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var groups = _parameter_groups.Cast<ParamGroup>().ToList();
            writer.Write(GetType().Name);
            writer.Write7BitEncodedInt(groups.Count);
            writer.Write7BitEncodedInt(groups.Sum(g => g.Params.Length));
            foreach (var g in groups) g.Options.SaveStateDict(writer);
            foreach (var g in groups)
                foreach (var p in g.Params) _state[p.Handle].SaveStateDict(writer);
        }
        raw.Write(hashed.Crc.Value);
        raw.Flush();
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="SaveCheckpoint(string)"/> (or by TorchSharp's base-class
    /// save_state_dict), all or nothing: the file is read and checked completely — optimizer class, format
    /// versions, group and parameter counts, every buffer's shape and dtype, finite moments, no negative second
    /// moment, the checksum, no trailing bytes — before anything here changes. A bad file throws an
    /// <see cref="InvalidDataException"/> naming it.
    /// </summary>
    public void LoadCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path)) throw new FileNotFoundException($"{GetType().Name}: checkpoint '{path}' is a folder, not a checkpoint file. Nothing was loaded.", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{GetType().Name}: checkpoint '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        Load(stream, $"checkpoint '{path}'", wholeStream: true);
    }

    /// <summary>As <see cref="LoadCheckpoint(string)"/> from a stream positioned at a checkpoint (bytes after it are left unread).</summary>
    public void LoadCheckpoint(Stream stream) => Load(stream ?? throw new ArgumentNullException(nameof(stream)), "checkpoint stream", wholeStream: false);

    internal static NotSupportedException BaseLoadNotSupported() => new(
        "AdamFamily optimizers load checkpoints with LoadCheckpoint(path) (all or nothing, checksummed); TorchSharp's " +
        "OptimizerHelper.load_state_dict(path or reader) loads piece by piece and is not supported. Nothing was loaded.");

    private void Load(Stream stream, string what, bool wholeStream)
    {
        var groups = _parameter_groups.Cast<ParamGroup>().ToList();
        var stagedOptions = new List<AfmdwOptions>();
        var stagedStates = new List<ParameterState>();
        try
        {
            try
            {
                int first = stream.ReadByte();
                if (first < 0) throw new InvalidDataException("is empty.");
                if (first == 0)
                {
                    using var raw = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                    RecordHeader.Read(raw, RecordHeader.Container, ContainerVersion, "checkpoint container", "the file is not an AdamFamily checkpoint.");
                    var hashed = new Crc32Stream(stream);
                    using (var reader = new BinaryReader(hashed, System.Text.Encoding.UTF8, leaveOpen: true))
                        ReadBody(reader, ReadName(reader, reader.ReadByte()), groups, stagedOptions, stagedStates);
                    uint stored = raw.ReadUInt32();
                    if (stored != hashed.Crc.Value)
                        throw new InvalidDataException($"fails its integrity check (CRC-32 {hashed.Crc.Value:x8}, stored {stored:x8}): the file is corrupt.");
                }
                else
                {
                    using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                    ReadBody(reader, ReadName(reader, (byte)first), groups, stagedOptions, stagedStates);
                }
                if (wholeStream && stream.CanSeek && stream.Position != stream.Length)
                    throw new InvalidDataException($"has {stream.Length - stream.Position} trailing bytes after the checkpoint: the file is corrupt or not one checkpoint.");
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{GetType().Name}: {what}{(e.Message.StartsWith("the ", StringComparison.Ordinal) ? ": " : " ")}{e.Message} Nothing was loaded.", e);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
            {
                throw new InvalidDataException($"{GetType().Name}: {what} is truncated or corrupt ({e.Message}); nothing was loaded.", e);
            }
            catch (Exception e) when (e is ArgumentException or OverflowException or System.Text.DecoderFallbackException or InvalidOperationException)
            {
                throw new InvalidDataException($"{GetType().Name}: {what} is corrupt ({e.GetType().Name}: {e.Message}); nothing was loaded.", e);
            }

            CheckStatePrecision(what, groups, stagedOptions, stagedStates);

            // Everything read and checked: commit.
            for (int i = 0; i < groups.Count; i++) groups[i].Options.LoadStateDict(stagedOptions[i]);
            int k = 0;
            foreach (var g in groups)
                foreach (var p in g.Params)
                    _state[p.Handle].LoadStateDict(stagedStates[k++]);
            _stepCount = StepsInState();
        }
        finally
        {
            foreach (var s in stagedStates) s.Dispose();
        }
    }

    // The class name as BinaryWriter writes it (7-bit length, UTF-8), whose first byte the caller has read.
    private static string ReadName(BinaryReader reader, byte first)
    {
        int length = first & 0x7f;
        for (int shift = 7, b = first; (b & 0x80) != 0; shift += 7)
        {
            if (shift > 14) throw new InvalidDataException("is not an optimizer checkpoint (its header is unreadable).");
            b = reader.ReadByte();
            length |= (b & 0x7f) << shift;
        }
        if (length > 1024) throw new InvalidDataException("is not an optimizer checkpoint (its header is unreadable).");
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException("the header ends early");
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    // A checkpoint's state precision must be this optimizer's: loading is never a silent reinterpretation of the
    // stored bytes, nor a silent change of what the user constructed.
    private void CheckStatePrecision(string what, List<ParamGroup> groups, List<AfmdwOptions> stagedOptions, List<ParameterState> stagedStates)
    {
        int k = 0;
        for (int i = 0; i < groups.Count; i++)
        {
            var mine = groups[i].Options.StatePrecision ?? StatePrecision.Float32;
            var theirs = stagedOptions[i].StatePrecision ?? StatePrecision.Float32;
            if (mine != theirs)
                throw new InvalidDataException(
                    $"{GetType().Name}: {what} holds {theirs.Name()} optimizer state (group {i}) but this optimizer uses state_precision={mine.Name()}. " +
                    $"Construct the optimizer with state_precision={theirs.Name()} to load it; nothing was loaded.");
            foreach (var _ in groups[i].Params)
                if (stagedStates[k++].Precision != theirs)
                    throw new InvalidDataException($"{GetType().Name}: {what} is inconsistent: group {i}'s options say state_precision={theirs.Name()} but a parameter's state is {stagedStates[k - 1].Precision.Name()}; nothing was loaded.");
        }
    }

    private void ReadBody(BinaryReader reader, string name, List<ParamGroup> groups, List<AfmdwOptions> stagedOptions, List<ParameterState> stagedStates)
    {
        int groupCount = ReadLeb128(reader), stateCount = ReadLeb128(reader);
        if (name != GetType().Name)
            throw new InvalidDataException($"was written by optimizer '{name}', not '{GetType().Name}'. Load it into a {name}.");
        int parameters = groups.Sum(g => g.Params.Length);
        if (groupCount != groups.Count)
            throw new InvalidDataException($"has {groupCount} parameter groups; this optimizer has {groups.Count}.");
        if (stateCount != parameters)
            throw new InvalidDataException($"has state for {stateCount} parameters; this optimizer has {parameters}.");
        var preset = Presets.OfType(GetType());
        for (int i = 0; i < groupCount; i++)
            stagedOptions.Add(OptionsRecord.Read(reader, preset?.Defaults() ?? groups[i].Options));
        foreach (var g in groups)
            foreach (var p in g.Params)
                stagedStates.Add(ParameterState.ReadFrom(reader, p));
    }

    // Group and state counts are unsigned LEB128 (as TorchSharp writes them); read with a bound so a foreign
    // file fails fast instead of decoding garbage.
    private static int ReadLeb128(BinaryReader reader)
    {
        long value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value <= int.MaxValue ? (int)value : throw new InvalidDataException("holds an impossible count.");
        }
        throw new InvalidDataException("holds an impossible count.");
    }

    /// <summary>Loads a state dictionary from <see cref="OptimizerHelper.state_dict"/> of an optimizer of the same layout (counts, types and shapes checked first).</summary>
    public override void load_state_dict(StateDictionary state_dict)
    {
        var sd = this.state_dict();
        if (state_dict.Options.Count != sd.Options.Count)
            throw new ArgumentException($"{GetType().Name}: the state dictionary has {state_dict.Options.Count} parameter groups; this optimizer has {sd.Options.Count}.");
        if (state_dict.State.Count != sd.State.Count)
            throw new ArgumentException($"{GetType().Name}: the state dictionary has state for {state_dict.State.Count} parameters; this optimizer has {sd.State.Count}.");
        for (int i = 0; i < sd.State.Count; i++)
        {
            if (state_dict.State[i] is not ParameterState src)
                throw new ArgumentException($"{GetType().Name}: state {i} is a {state_dict.State[i].GetType().Name}, not an AdamFamily state.");
            var mine = (ParameterState)sd.State[i];
            if (src.Precision != mine.Precision)
                throw new ArgumentException($"{GetType().Name}: state {i} is {src.Precision.Name()} state; this optimizer's is {mine.Precision.Name()} (state_precision): it is not reinterpreted.");
            var stateType = Execution.StateCodecTensors.StorageType(mine.Precision, ParameterState.StateType(mine.Parameter.dtype));
            foreach (var (t, n) in new[] { (src.M, "m"), (src.V, "v"), (src.VMax, "v_max") })
            {
                if (t is null) continue;
                if (!t.shape.SequenceEqual(mine.Parameter.shape) || t.dtype != stateType)
                    throw new ArgumentException($"{GetType().Name}: state {i}'s {n} is {t.dtype}[{string.Join(",", t.shape)}]; this parameter's state is {stateType}[{string.Join(",", mine.Parameter.shape)}].");
                if (ParameterState.ContentProblem(t, n, nonNegative: n != "m") is { } problem)
                    throw new ArgumentException($"{GetType().Name}: state {i}: {problem}");
            }
        }
        for (int i = 0; i < sd.Options.Count; i++)
            if (state_dict.Options[i] is not AfmdwOptions)
                throw new ArgumentException($"{GetType().Name}: options {i} are {state_dict.Options[i].GetType().Name}, not AdamFamily options.");
        base.load_state_dict(state_dict);
        _stepCount = StepsInState();
    }

    /// <summary>
    /// <see cref="StepCount"/> as loaded state records it: the most steps any parameter has taken (a checkpoint keeps
    /// each parameter's count; a parameter without a gradient in some step has fewer).
    /// </summary>
    private long StepsInState() =>
        _parameter_groups.SelectMany(g => ((ParamGroup)g).Params).Select(p => ((ParameterState)_state[p.Handle]).Step).DefaultIfEmpty(0).Max();
}

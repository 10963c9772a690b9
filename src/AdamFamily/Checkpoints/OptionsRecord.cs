using AdamFamily.Rules;

namespace AdamFamily.Checkpoints;

/// <summary>
/// One parameter group's options in a checkpoint. Version 2 stores every declared option as its key and its
/// value (written by the declaration's codec), so adding an option needs no format change: a file without
/// it reads the preset's default. Version 1 (fixed field order) is still read.
/// </summary>
internal static class OptionsRecord
{
    public const int Version = 2;

    public static void Write(BinaryWriter writer, AfmdwOptions o)
    {
        writer.Write(o.InitialLearningRate); // TorchSharp's OptimizerOptions prefix, kept so foreign
        writer.Write(o.LearningRate!.Value); // records are told apart by the marker that follows
        RecordHeader.Write(writer, RecordHeader.Options, Version);
        var stored = OptionSchema.All.Where(d => !ReferenceEquals(d, OptionSchema.LearningRate) && o.Get(d) is not null).ToArray();
        writer.Write(stored.Length);
        foreach (var d in stored)
        {
            writer.Write(d.Key);
            d.Write(writer, o.Get(d)!);
        }
    }

    /// <summary>Reads options written by <see cref="Write"/> (or version 1) over a copy of <paramref name="baseline"/>, and validates them.</summary>
    public static AfmdwOptions Read(BinaryReader reader, AfmdwOptions baseline)
    {
        var o = baseline.Clone();
        o.InitialLearningRate = reader.ReadDouble();
        o.LearningRate = reader.ReadDouble();
        int version = RecordHeader.Read(reader, RecordHeader.Options, Version, "parameter-group options",
            "the checkpoint was written by another optimizer library (for example TorchSharp's own optimizer of the same class name).");
        if (version == 1) ReadVersion1(reader, o);
        else
        {
            int count = reader.ReadInt32();
            if (count < 0 || count > 4 * OptionSchema.All.Count) throw new InvalidDataException($"the checkpoint holds an impossible option count {count}.");
            var seen = new HashSet<string>();
            for (int i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var d = OptionSchema.Find(key)
                        ?? throw new InvalidDataException($"the checkpoint holds option '{key}', which this AdamFamily does not know (written by a newer version?).");
                if (!seen.Add(d.Key)) throw new InvalidDataException($"the checkpoint holds option '{key}' twice.");
                o.Set(d, Decode(() => d.Read(reader), key));
            }
        }
        try { o.Validate("checkpoint"); }
        catch (ArgumentException e) { throw new InvalidDataException($"the checkpoint holds invalid options: {e.Message}", e); }
        return o;
    }

    private static object Decode(Func<object> read, string key)
    {
        try { return read(); }
        catch (ArgumentException e) { throw new InvalidDataException($"the checkpoint holds an invalid {key}: {e.Message}", e); }
    }

    // Version 1: the options in a fixed order (AdamFamily 0.1).
    private static void ReadVersion1(BinaryReader r, AfmdwOptions o)
    {
        o.Beta1 = r.ReadDouble(); o.Beta2 = r.ReadDouble(); o.Eps = r.ReadDouble(); o.WeightDecay = r.ReadDouble();
        o.Estimator = (string)Decode(() => OptionSchema.Estimator.Parse(r.ReadString()), "estimator");
        o.Direction = Code<Direction>(r, "direction"); o.EpsMode = Code<EpsMode>(r, "eps_mode"); o.Decay = Code<DecayPlacement>(r, "decay");
        o.BiasCorrection = r.ReadBoolean(); o.Maximize = r.ReadBoolean();
        o.InitialAccumulator = r.ReadDouble();
        o.ThetaSchedule = (MomentSchedule)Decode(() => OptionSchema.ThetaSchedule.Parse(r.ReadString()), "theta_schedule");
        o.TauSchedule = (MomentSchedule)Decode(() => OptionSchema.TauSchedule.Parse(r.ReadString()), "tau_schedule");
        o.Rectify = r.ReadBoolean(); o.Momentum = r.ReadDouble(); o.Dampening = r.ReadDouble(); o.Nesterov = r.ReadBoolean(); o.MomentumDecay = r.ReadDouble();
        o.StabilityCheck = r.ReadBoolean();
    }

    private static T Code<T>(BinaryReader reader, string name) where T : struct, Enum
    {
        int v = reader.ReadInt32();
        if (!Enum.IsDefined(typeof(T), v)) throw new InvalidDataException($"the checkpoint holds an unknown {name} code {v}.");
        return (T)(object)v;
    }
}

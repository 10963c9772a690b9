namespace AdamFamily.Checkpoints;

/// <summary>
/// The one header of every AdamFamily checkpoint record (optimizer container, group options, parameter
/// state): a four-byte marker and a format version. Readers accept versions 1 to their current one.
/// </summary>
internal static class RecordHeader
{
    /// <summary>"AFMC": the optimizer checkpoint container.</summary>
    public const int Container = 0x434D4641;
    /// <summary>"AFMO": one parameter group's options.</summary>
    public const int Options = 0x4F4D4641;
    /// <summary>"AFMS": one parameter's state.</summary>
    public const int State = 0x534D4641;

    public static void Write(BinaryWriter writer, int marker, int version)
    {
        writer.Write(marker);
        writer.Write(version);
    }

    /// <summary>Reads and checks a header; returns the version. <paramref name="foreign"/> says what a missing marker means.</summary>
    public static int Read(BinaryReader reader, int marker, int currentVersion, string what, string foreign)
    {
        int found = reader.ReadInt32();
        if (found != marker)
            throw new InvalidDataException($"the {what} is not in AdamFamily's format (no {Name(marker)} marker): {foreign}");
        int version = reader.ReadInt32();
        if (version < 1 || version > currentVersion)
            throw new InvalidDataException($"the {what} format version is {version}; this AdamFamily reads versions 1 to {currentVersion}. Upgrade AdamFamily to load it.");
        return version;
    }

    private static string Name(int marker) => string.Concat(BitConverter.GetBytes(marker).Select(b => (char)b));
}

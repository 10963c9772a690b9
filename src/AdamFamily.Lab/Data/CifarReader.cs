using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>
/// Reads the CIFAR-10 and CIFAR-100 binary distributions (the "binary version" tarballs) with any record count.
/// Images become float32 [N, 3, 32, 32] in [0, 1] (the files already store channel-major CHW pixels).
/// </summary>
public static class CifarReader
{
    /// <summary>Pixel bytes per record: 3 channels × 32 × 32, channel-major.</summary>
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>CIFAR-10 record: 1 label byte + 3072 pixel bytes.</summary>
    public const int Cifar10RecordBytes = 1 + ImageBytes;

    /// <summary>CIFAR-100 record: coarse label byte + fine label byte + 3072 pixel bytes.</summary>
    public const int Cifar100RecordBytes = 2 + ImageBytes;

    /// <summary>Folder name inside the CIFAR-10 binary tarball.</summary>
    public const string Cifar10Folder = "cifar-10-batches-bin";

    /// <summary>Folder name inside the CIFAR-100 binary tarball.</summary>
    public const string Cifar100Folder = "cifar-100-binary";

    private static readonly string[] Cifar10TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    private const string Cifar10TestFile = "test_batch.bin";

    /// <summary>
    /// Loads CIFAR-10 from <paramref name="dir"/>: either the <c>cifar-10-batches-bin</c> folder itself or its parent.
    /// Train = data_batch_1..5.bin, test = test_batch.bin; 10 classes.
    /// </summary>
    /// <exception cref="FileNotFoundException">Files missing; the message describes the expected layout.</exception>
    /// <exception cref="InvalidDataException">A file's length is not a whole number of records, or a label is out of range.</exception>
    public static ImageTask LoadCifar10(string dir)
    {
        string[] needed = [.. Cifar10TrainFiles, Cifar10TestFile];
        string root = ResolveDir(dir, Cifar10Folder, needed, "CIFAR-10");
        var train = ReadCifar10(Cifar10TrainFiles.Select(f => Path.Combine(root, f)).ToArray(), "cifar10/train");
        try { return new ImageTask("cifar10", train, ReadCifar10([Path.Combine(root, Cifar10TestFile)], "cifar10/test")); }
        catch { train.Dispose(); throw; }
    }

    /// <summary>
    /// Loads CIFAR-100 (fine labels, 100 classes) from <paramref name="dir"/>: either the <c>cifar-100-binary</c>
    /// folder itself or its parent. Train = train.bin, test = test.bin.
    /// </summary>
    /// <exception cref="FileNotFoundException">Files missing; the message describes the expected layout.</exception>
    /// <exception cref="InvalidDataException">A file's length is not a whole number of records, or a label is out of range.</exception>
    public static ImageTask LoadCifar100(string dir)
    {
        string root = ResolveDir(dir, Cifar100Folder, ["train.bin", "test.bin"], "CIFAR-100");
        var train = ReadCifar100(Path.Combine(root, "train.bin"), "cifar100/train");
        try { return new ImageTask("cifar100", train, ReadCifar100(Path.Combine(root, "test.bin"), "cifar100/test")); }
        catch { train.Dispose(); throw; }
    }

    /// <summary>Reads and concatenates CIFAR-10 binary batch files (label byte + 3072 pixels per record).</summary>
    public static LabDataset ReadCifar10(IReadOnlyList<string> files, string name)
        => Read(files, name, Cifar10RecordBytes, numClasses: 10);

    /// <summary>Reads a CIFAR-100 binary file, keeping the fine label (100 classes); the coarse label is validated and dropped.</summary>
    public static LabDataset ReadCifar100(string file, string name)
        => Read([file], name, Cifar100RecordBytes, numClasses: 100);

    private static LabDataset Read(IReadOnlyList<string> files, string name, int recordBytes, int numClasses)
    {
        if (files.Count == 0) throw new ArgumentException("No files given.", nameof(files));
        var contents = new byte[files.Count][];
        long records = 0;
        for (int f = 0; f < files.Count; f++)
        {
            string path = files[f];
            if (!File.Exists(path)) throw new FileNotFoundException($"CIFAR file not found: '{path}'.", path);
            byte[] data = File.ReadAllBytes(path);
            if (data.Length == 0 || data.Length % recordBytes != 0)
                throw new InvalidDataException(
                    $"'{path}': length {data.Length} bytes is not a positive multiple of the record size {recordBytes} bytes " +
                    $"({(recordBytes == Cifar10RecordBytes ? "CIFAR-10: 1 label + 3072 pixels" : "CIFAR-100: coarse + fine label + 3072 pixels")}).");
            contents[f] = data;
            records += data.Length / recordBytes;
        }
        if (records * ImageBytes > Array.MaxLength)
            throw new InvalidDataException($"{name}: {records} records are too many to hold in one buffer.");

        int n = (int)records;
        var pixels = new byte[(long)n * ImageBytes];
        var labels = new long[n];
        int labelOffset = recordBytes - ImageBytes - 1; // 0 for CIFAR-10, 1 (fine label) for CIFAR-100
        int r = 0;
        for (int f = 0; f < files.Count; f++)
        {
            byte[] data = contents[f];
            for (int i = 0; i < data.Length / recordBytes; i++, r++)
            {
                int at = i * recordBytes;
                if (recordBytes == Cifar100RecordBytes && data[at] >= 20)
                    throw new InvalidDataException($"'{files[f]}': coarse label out of range: record {i} has {data[at]}, expected 0..19.");
                byte label = data[at + labelOffset];
                if (label >= numClasses)
                    throw new InvalidDataException($"'{files[f]}': label out of range: record {i} has {label}, expected 0..{numClasses - 1}.");
                labels[r] = label;
                Buffer.BlockCopy(data, at + recordBytes - ImageBytes, pixels, r * ImageBytes, ImageBytes);
            }
            contents[f] = null!; // let the raw file go before the float tensor is made
        }

        using var scope = NewDisposeScope();
        var raw = tensor(pixels, [n, 3, 32, 32], ScalarType.Byte);
        var x = raw.to_type(ScalarType.Float32).div_(255f);
        var y = tensor(labels, [n], ScalarType.Int64);
        return new LabDataset(name, x, y, numClasses); // detaches x and y from the scope
    }

    private static string ResolveDir(string dir, string folder, string[] needed, string what)
    {
        foreach (var candidate in new[] { dir, Path.Combine(dir, folder) })
            if (needed.All(f => File.Exists(Path.Combine(candidate, f))))
                return candidate;

        // Report what is missing from whichever candidate has the files at all.
        string best = Directory.Exists(Path.Combine(dir, folder)) ? Path.Combine(dir, folder) : dir;
        var missing = needed.Where(f => !File.Exists(Path.Combine(best, f))).ToArray();
        throw new FileNotFoundException(
            $"{what} binary files not found: '{best}' lacks {string.Join(", ", missing)}. " +
            $"Expected {string.Join(", ", needed)} either directly in '{dir}' or in '{Path.Combine(dir, folder)}' " +
            $"(the layout of the {what} binary-version tarball).",
            Path.Combine(best, missing[0]));
    }
}

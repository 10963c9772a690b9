using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Data;

/// <summary>
/// Reads IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed (detected by the
/// 1f 8b magic, not by the extension), with any record count.
/// Anything missing, truncated or malformed throws; the message names the file and the problem.
/// </summary>
public static class IdxReader
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the files.</summary>
    public const string DefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>Magic of an IDX file of unsigned bytes with 3 dimensions (images: count, rows, cols).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic of an IDX file of unsigned bytes with 1 dimension (labels: count).</summary>
    public const int LabelsMagic = 0x00000801;

    private const int ImagesHeaderBytes = 16;
    private const int LabelsHeaderBytes = 8;

    /// <summary>File names (without the optional .gz) of the four Fashion-MNIST files.</summary>
    public static IReadOnlyList<string> FashionMnistFiles { get; } =
    [
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    ];

    /// <summary>Loads Fashion-MNIST (60000 train, 10000 test, 10 classes, [1, 28, 28] in [0, 1]) from <paramref name="dir"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing (neither raw nor .gz present).</exception>
    /// <exception cref="InvalidDataException">A file is truncated or malformed.</exception>
    public static ImageTask LoadFashionMnist(string dir = DefaultFashionMnistDir)
    {
        var train = LoadFashionMnistSplit(train: true, dir);
        try { return new ImageTask("fashion-mnist", train, LoadFashionMnistSplit(train: false, dir)); }
        catch { train.Dispose(); throw; }
    }

    /// <summary>Loads one Fashion-MNIST split: the train files or the t10k (test) files.</summary>
    public static LabDataset LoadFashionMnistSplit(bool train, string dir = DefaultFashionMnistDir)
    {
        string prefix = train ? "train" : "t10k";
        string images = FindFashionMnistFile(dir, $"{prefix}-images-idx3-ubyte");
        string labels = FindFashionMnistFile(dir, $"{prefix}-labels-idx1-ubyte");
        var set = Load(images, labels, numClasses: 10, name: train ? "fashion-mnist/train" : "fashion-mnist/test");
        if (set.Count == 0)
        {
            set.Dispose();
            throw new InvalidDataException($"'{images}': 0 images; the {(train ? "training" : "test")} set needs at least one record.");
        }
        return set;
    }

    /// <summary>Loads an images file and a labels file as one dataset, checking that their record counts agree.</summary>
    public static LabDataset Load(string imagesPath, string labelsPath, int numClasses, string name)
    {
        using var scope = NewDisposeScope();
        var x = ReadImages(imagesPath);
        var y = ReadLabels(labelsPath, numClasses);
        if (x.shape[0] != y.shape[0])
            throw new InvalidDataException(
                $"Image/label count mismatch: '{imagesPath}' has {x.shape[0]} images but '{labelsPath}' has {y.shape[0]} labels.");
        return new LabDataset(name, x, y, numClasses); // detaches x and y from the scope
    }

    /// <summary>Reads an IDX images file into float32 [N, 1, rows, cols] scaled to [0, 1].</summary>
    public static Tensor ReadImages(string path)
    {
        int count = 0, rows = 0, cols = 0;
        var (bytes, length) = ReadIdx(path, ImagesHeaderBytes, header =>
        {
            CheckMagic(path, header, ImagesMagic, "unsigned-byte 3-D images");
            RequireHeader(path, header.Length, ImagesHeaderBytes);
            count = ReadDim(path, header, 4, "image count");
            rows = ReadDim(path, header, 8, "row count");
            cols = ReadDim(path, header, 12, "column count");
            if (count > 0 && (rows == 0 || cols == 0))
                throw new InvalidDataException($"'{path}': malformed header: images of {rows}x{cols} pixels.");
            return PayloadBytes(path, $"{count} images of {rows}x{cols}", count, rows, cols);
        });
        long payload = (long)count * rows * cols;
        CheckLength(path, length, ImagesHeaderBytes + payload, $"{count} images of {rows}x{cols}");

        using var scope = NewDisposeScope();
        // One tensor over the whole buffer, then a single vectorised convert+scale of the payload.
        var raw = tensor(bytes, [bytes.LongLength], ScalarType.Byte);
        var images = raw.narrow(0, ImagesHeaderBytes, payload)
                        .to_type(ScalarType.Float32)
                        .div_(255f)
                        .view(count, 1, rows, cols);
        return images.MoveToOuterDisposeScope();
    }

    /// <summary>Reads an IDX labels file into int64 [N], checking every label is in [0, <paramref name="numClasses"/>).</summary>
    public static Tensor ReadLabels(string path, int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        int count = 0;
        var (bytes, length) = ReadIdx(path, LabelsHeaderBytes, header =>
        {
            CheckMagic(path, header, LabelsMagic, "unsigned-byte 1-D labels");
            RequireHeader(path, header.Length, LabelsHeaderBytes);
            count = ReadDim(path, header, 4, "label count");
            return PayloadBytes(path, $"{count} labels", count);
        });
        var span = bytes.AsSpan(0, length);
        CheckLength(path, length, LabelsHeaderBytes + (long)count, $"{count} labels");

        var labels = new long[count];
        var payload = span.Slice(LabelsHeaderBytes, count);
        for (int i = 0; i < count; i++)
        {
            byte v = payload[i];
            if (v >= numClasses)
                throw new InvalidDataException(
                    $"'{path}': label out of range: record {i} has label {v}, expected 0..{numClasses - 1}.");
            labels[i] = v;
        }
        return tensor(labels, [count], ScalarType.Int64);
    }

    /// <summary>
    /// The payload size a header declares, refusing sizes that overflow or cannot be held in one buffer (a hostile
    /// or corrupt header must not make the reader allocate more than a legitimate file could need).
    /// </summary>
    private static long PayloadBytes(string path, string what, params int[] dims)
    {
        long total = 1;
        foreach (var d in dims)
        {
            if (d != 0 && total > (Array.MaxLength - 16L) / d)
                throw new InvalidDataException($"'{path}': malformed header: {what} is more than one file can hold ({string.Join(" × ", dims)} bytes overflow the {Array.MaxLength:N0}-byte limit).");
            total *= d;
        }
        return total;
    }

    private static string FindFashionMnistFile(string dir, string baseName)
    {
        foreach (var candidate in new[] { baseName, baseName + ".gz" })
        {
            string path = Path.Combine(dir, candidate);
            if (File.Exists(path)) return path;
        }
        string where = Directory.Exists(dir) ? $"in '{dir}'" : $"('{dir}' does not exist)";
        throw new FileNotFoundException(
            $"Fashion-MNIST file '{baseName}' or '{baseName}.gz' not found {where}. " +
            $"The directory must hold the four IDX files {string.Join(", ", FashionMnistFiles)} (raw or .gz); " +
            "on Debian: apt-get install dataset-fashion-mnist.",
            Path.Combine(dir, baseName));
    }

    /// <summary>
    /// The whole (decompressed) file: a buffer and the number of valid bytes in it. The header (the first
    /// <paramref name="headerBytes"/> bytes, fewer if the file is shorter) is read first and
    /// <paramref name="payloadOf"/> checks it and returns the payload size it declares; no more than header +
    /// payload + 1 bytes are ever decompressed or held, so a gzip bomb (a stream far larger than its header says)
    /// is refused after reading one byte past the declared size, with memory bounded by the declared size. A gzip
    /// stream is read to its end, so its CRC-32 and length trailer are checked.
    /// </summary>
    private static (byte[] Bytes, int Length) ReadIdx(string path, int headerBytes, Func<byte[], long> payloadOf)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: '{path}'.", path);
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        using Stream input = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        long position = 0;
        try
        {
            var head = new byte[headerBytes];
            int got = input.ReadAtLeast(head, headerBytes, throwOnEndOfStream: false);
            position = got;
            long payload = payloadOf(got == headerBytes ? head : head[..got]);
            long expected = headerBytes + payload;
            if (!gzip && file.Length > expected)   // a raw file's size is known: no need to read what the header does not declare
                throw new InvalidDataException($"'{path}': malformed: expected {expected} bytes ({Declared(head)}), found {file.Length} ({file.Length - expected} unexpected trailing bytes).");

            // Grow with what actually arrives (up to the declared size), so a short stream with a huge header stays small.
            var buffer = new MemoryStream((int)Math.Min(expected, gzip ? Math.Max(1L << 20, 4 * file.Length) : file.Length));
            buffer.Write(head, 0, got);
            var chunk = new byte[1 << 16];
            while (position < expected)
            {
                int n = input.Read(chunk, 0, (int)Math.Min(chunk.Length, expected - position));
                if (n == 0) break;
                buffer.Write(chunk, 0, n);
                position += n;
            }
            if (position == expected && input.Read(chunk, 0, 1) > 0)
                throw new InvalidDataException(gzip
                    ? $"'{path}': the gzip stream holds more than the {expected} bytes its IDX header declares ({Declared(head)}); reading stopped at byte {expected} (a corrupt header or a gzip bomb)."
                    : $"'{path}': malformed: unexpected trailing bytes after the {expected} bytes the header declares.");
            return (buffer.GetBuffer(), checked((int)buffer.Length));
        }
        catch (Exception ex) when (gzip && ex is IOException or OverflowException || gzip && ex is InvalidDataException && ex.Message.IndexOf(path, StringComparison.Ordinal) < 0)
        {
            throw new InvalidDataException($"'{path}': gzip data is corrupt or truncated near decompressed byte {position} ({ex.Message}).", ex);
        }

        static string Declared(byte[] head) => head.Length >= 8
            ? $"the header declares {BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(4))} records" : "as the header declares";
    }

    private static void CheckMagic(string path, ReadOnlySpan<byte> data, int expected, string what)
    {
        if (data.Length < 4)
            throw new InvalidDataException($"'{path}': truncated: expected at least 4 bytes (the IDX magic), found {data.Length}.");
        int magic = BinaryPrimitives.ReadInt32BigEndian(data);
        if (magic != expected)
            throw new InvalidDataException(
                $"'{path}': bad magic 0x{magic:X8}, expected 0x{expected:X8} ({what}).");
    }

    private static void RequireHeader(string path, int length, int headerBytes)
    {
        if (length < headerBytes)
            throw new InvalidDataException($"'{path}': truncated: expected at least {headerBytes} header bytes, found {length}.");
    }

    private static int ReadDim(string path, ReadOnlySpan<byte> data, int offset, string what)
    {
        int v = BinaryPrimitives.ReadInt32BigEndian(data.Slice(offset, 4));
        if (v < 0)
            throw new InvalidDataException($"'{path}': malformed header: {what} is {v}.");
        return v;
    }

    private static void CheckLength(string path, long found, long expected, string what)
    {
        if (found < expected)
            throw new InvalidDataException($"'{path}': truncated: expected {expected} bytes ({what}), found {found}.");
        if (found > expected)
            throw new InvalidDataException(
                $"'{path}': malformed: expected {expected} bytes ({what}), found {found} ({found - expected} unexpected trailing bytes).");
    }
}

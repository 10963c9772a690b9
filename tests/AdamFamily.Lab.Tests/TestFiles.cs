using System.Buffers.Binary;
using System.IO.Compression;

namespace AdamFamily.Lab.Tests;

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "adamfamily-lab-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Writers for the file formats the readers parse, written from the format descriptions.</summary>
internal static class TestFiles
{
    public static byte[] IdxImages(byte[][] images, int rows, int cols, int magic = 0x00000803, int? declaredCount = null)
    {
        var bytes = new byte[16 + images.Length * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), declaredCount ?? images.Length);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), cols);
        for (int i = 0; i < images.Length; i++) images[i].CopyTo(bytes, 16 + i * rows * cols);
        return bytes;
    }

    public static byte[] IdxLabels(byte[] labels, int magic = 0x00000801)
    {
        var bytes = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(0), magic);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), labels.Length);
        labels.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Bytes(int count, int seed)
    {
        var r = new Random(seed);
        var b = new byte[count];
        r.NextBytes(b);
        return b;
    }

    /// <summary>A CIFAR-10 batch: one label byte then 3072 CHW pixel bytes per record.</summary>
    public static byte[] Cifar10(byte[] labels, byte[][] pixels)
    {
        var bytes = new byte[labels.Length * 3073];
        for (int i = 0; i < labels.Length; i++)
        {
            bytes[i * 3073] = labels[i];
            pixels[i].CopyTo(bytes, i * 3073 + 1);
        }
        return bytes;
    }

    /// <summary>A CIFAR-100 file: coarse label, fine label, then 3072 CHW pixel bytes per record.</summary>
    public static byte[] Cifar100(byte[] coarse, byte[] fine, byte[][] pixels)
    {
        var bytes = new byte[fine.Length * 3074];
        for (int i = 0; i < fine.Length; i++)
        {
            bytes[i * 3074] = coarse[i];
            bytes[i * 3074 + 1] = fine[i];
            pixels[i].CopyTo(bytes, i * 3074 + 2);
        }
        return bytes;
    }
}

/// <summary>Stand-ins for afm on a worker or a Slurm node.</summary>
internal static class TestWorkers
{
    /// <summary>A script that is the real afm, except that the worker of <paramref name="unit"/> dies (exit 3) saying <paramref name="message"/>.</summary>
    public static string CrashingOn(string dir, int unit, string message)
    {
        var script = Path.Combine(dir, "broken.sh");
        File.WriteAllText(script, $$"""
            #!/bin/bash
            for a in "$@"; do [ "$prev" = "--unit" ] && unit=$a; prev=$a; done
            if [ "$unit" = "{{unit}}" ]; then echo "{{message}}" >&2; exit 3; fi
            exec dotnet '{{Path.Combine(AppContext.BaseDirectory, "afm.dll")}}' "$@"
            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return script;
    }
}

internal static class TensorAssertions
{
    /// <summary>Same dtype, same shape, identical elements (torch.equal semantics plus a dtype check).</summary>
    public static bool SameAs(this TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) => a.dtype == b.dtype && a.Equals(b);
}

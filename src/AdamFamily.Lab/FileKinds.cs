using System.Runtime.InteropServices;

namespace AdamFamily.Lab;

/// <summary>
/// What kind of file system entry a path is. .NET reports a FIFO, a device and a regular file alike (attributes
/// "Normal", length 0), and opening a FIFO to read blocks until a writer comes; so every place afm reads a file the
/// user named asks here first (Linux: <c>statx</c>, whose layout is the same on every architecture).
/// </summary>
public static partial class FileKinds
{
    /// <summary>True when <paramref name="path"/> (links followed) is a regular file; false for a folder, FIFO, device, socket or nothing.</summary>
    public static bool IsRegularFile(string path)
    {
        if (!File.Exists(path)) return false;
        if (!OperatingSystem.IsLinux()) return true;   // elsewhere .NET's File.Exists is what we have
        Span<byte> buffer = stackalloc byte[256];      // struct statx is 256 bytes
        if (Statx(-100 /* AT_FDCWD */, path, 0, 0x1 /* STATX_TYPE */, ref MemoryMarshal.GetReference(buffer)) != 0) return false;
        ushort mode = BitConverter.ToUInt16(buffer[28..30]);   // stx_mode
        return (mode & 0xF000) == 0x8000;                        // S_IFREG
    }

    /// <summary>
    /// Refuses anything but a regular file, naming <paramref name="what"/> (a flag, or "data file") and the path.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="InvalidDataException">A folder, a FIFO, a device or a socket.</exception>
    public static void RequireRegularFile(string path, string what)
    {
        if (Directory.Exists(path)) throw new InvalidDataException($"{what} '{path}' is a folder; a file was expected.");
        if (!File.Exists(path)) throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
        if (!IsRegularFile(path)) throw new InvalidDataException($"{what} '{path}' is not a regular file (a FIFO, a device or a socket); afm reads only regular files.");
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);
}

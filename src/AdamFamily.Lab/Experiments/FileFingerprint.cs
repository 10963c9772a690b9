using System.Security.Cryptography;

namespace AdamFamily.Lab.Experiments;

/// <summary>
/// A file an experiment depends on (a data file, a TorchScript model, a task plugin's DLL), by absolute path, size
/// and SHA-256. Recorded in experiment.json when the experiment is prepared, so that a resume, a local worker or a
/// Slurm array task that would read a file changed since the plan was made refuses instead of mixing two versions of
/// the data (or of the code) in one comparison.
/// </summary>
/// <param name="Path">The absolute path, symbolic links resolved.</param>
/// <param name="Size">The size in bytes.</param>
/// <param name="Sha256">The SHA-256 of the contents, lower-case hex.</param>
public sealed record FileFingerprint(string Path, long Size, string Sha256)
{
    /// <summary>Fingerprints a regular file (reads it once).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The path is not a regular file (a folder, a FIFO, a device).</exception>
    public static FileFingerprint Of(string path)
    {
        var full = ResolvedPath(path);
        FileKinds.RequireRegularFile(full, "file");
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new FileFingerprint(full, stream.Length, hash);
    }

    /// <summary>The absolute path with every symbolic link along it resolved (a link's target, not its text, is what is read).</summary>
    public static string ResolvedPath(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        // Resolve from the root down, so a link in a parent folder counts as well as a link at the end.
        var root = System.IO.Path.GetPathRoot(full)!;
        var resolved = root;
        foreach (var part in full[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = System.IO.Path.Combine(resolved, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null)
                next = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? next;
            resolved = next;
        }
        return System.IO.Path.TrimEndingDirectorySeparator(resolved);
    }

    /// <summary>
    /// Checks the file is still what was recorded; <paramref name="what"/> names it in the message ("data file",
    /// "task assembly"). Reads the file only when its size matches.
    /// </summary>
    /// <exception cref="FileChangedException">The file is gone, or its size or contents changed.</exception>
    public void Verify(string what)
    {
        var info = new FileInfo(Path);
        if (!info.Exists)
            throw new FileChangedException($"{what} '{Path}' was recorded when the plan was made but is gone; put it back, or start a new results folder.");
        if (info.Length != Size)
            throw new FileChangedException($"{what} '{Path}' changed since the plan was made (size {Size} → {info.Length} bytes); restore it, or start a new results folder.");
        var now = Of(Path);
        if (now.Sha256 != Sha256)
            throw new FileChangedException($"{what} '{Path}' changed since the plan was made (SHA-256 {Sha256[..12]}… → {now.Sha256[..12]}…); restore it, or start a new results folder.");
    }
}

/// <summary>A file recorded in a plan (<see cref="FileFingerprint"/>) is gone or changed since.</summary>
public sealed class FileChangedException(string message) : IOException(message);

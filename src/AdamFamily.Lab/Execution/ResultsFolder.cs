using System.Text.Json;

namespace AdamFamily.Lab.Execution;

/// <summary>
/// Claims a results folder for afm: refuses a non-empty folder that afm did not make (so a user's own files are
/// never overwritten) and takes the folder's lock. The lock is an OS file lock on DIR/.afm-lock (released by the
/// kernel when the holder dies, so a stale lock from a dead process is simply taken over) plus DIR/.afm-lock.json
/// naming the holder (pid, host, command) for the message a second process gets.
/// </summary>
public sealed class ResultsFolder : IDisposable
{
    public const string Marker = ".afm-results";
    private const string LockName = ".afm-lock";
    private readonly FileStream _lock;

    private ResultsFolder(string dir, FileStream lockStream) { Dir = dir; _lock = lockStream; }

    public string Dir { get; }

    /// <summary>Whether <paramref name="dir"/> is an afm results folder (made by afm: the marker, or experiment.json beside runs/ from older versions).</summary>
    public static bool IsAfmFolder(string dir) =>
        File.Exists(Path.Combine(dir, Marker)) ||
        (File.Exists(Path.Combine(dir, "experiment.json")) && Directory.Exists(Path.Combine(dir, "runs")));

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> when <paramref name="dir"/> exists, is not empty and is not an
    /// afm results folder. Writes nothing.
    /// </summary>
    public static void CheckUsable(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new ArgumentException("--out: an empty path; give the results folder.", "out");
        dir = Path.GetFullPath(dir);
        if (File.Exists(dir)) throw new InvalidOperationException($"--out '{dir}' is a file, not a folder.");
        for (var up = Path.GetDirectoryName(dir); up is not null && !Directory.Exists(up); up = Path.GetDirectoryName(up))
            if (File.Exists(up)) throw new InvalidOperationException($"--out '{dir}': '{up}' is a file, so no folder can be made under it.");
        if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any() || IsAfmFolder(dir)) return;
        var sample = string.Join(", ", Directory.EnumerateFileSystemEntries(dir).Take(3).Select(Path.GetFileName));
        throw new InvalidOperationException(
            $"--out '{dir}' is not empty ({sample}, ...) and is not an afm results folder; afm never writes into a folder of other files. Choose a new or empty folder.");
    }

    /// <summary>
    /// Checks the folder is usable, creates it with afm's marker and takes its lock; throws
    /// <see cref="FolderLockedException"/> naming the holder when another process has it.
    /// </summary>
    public static ResultsFolder Claim(string dir, string? command = null)
    {
        dir = Path.GetFullPath(dir);
        CheckUsable(dir);
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--out '{dir}': the results folder cannot be created ({e.Message}).", e);
        }
        var lockPath = Path.Combine(dir, LockName);
        var infoPath = lockPath + ".json";
        FileStream stream;
        try { stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            throw new FolderLockedException($"'{dir}' is in use by another afm process ({DescribeHolder(infoPath)}); wait for it to finish, or use another --out folder.");
        }
        var marker = Path.Combine(dir, Marker);
        if (!File.Exists(marker)) LabFiles.WriteAtomically(marker, "This folder was made by afm (AdamFamily); afm only writes its own files here.\n");
        // The holder record: written after the OS lock is ours, so a stale record of a dead process is simply replaced.
        LabFiles.WriteJson(new
        {
            pid = Environment.ProcessId, host = Environment.MachineName, since = DateTime.UtcNow.ToString("O"),
            command = command ?? string.Join(' ', Environment.GetCommandLineArgs()),
        }, infoPath);
        return new ResultsFolder(dir, stream);
    }

    /// <summary>Who holds the folder's lock right now (null when nobody does). Takes nothing.</summary>
    public static string? Holder(string dir)
    {
        var lockPath = Path.Combine(Path.GetFullPath(dir), LockName);
        if (!File.Exists(lockPath)) return null;
        try { using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None); return null; }
        catch (IOException) { return DescribeHolder(lockPath + ".json"); }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static string DescribeHolder(string infoPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(infoPath));
            var r = doc.RootElement;
            string pid = r.GetProperty("pid").ToString(), host = r.GetProperty("host").GetString() ?? "?";
            string since = r.TryGetProperty("since", out var s) ? s.GetString() ?? "" : "";
            string cmd = r.TryGetProperty("command", out var c) ? c.GetString() ?? "" : "";
            return $"pid {pid} on host {host}, since {since}{(cmd.Length > 0 ? $": {cmd}" : "")}";
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "holder unknown";
        }
    }

    public void Dispose()
    {
        try { File.Delete(Path.Combine(Dir, LockName + ".json")); } catch (IOException) { }
        _lock.Dispose();
    }
}

/// <summary>Another process holds a results folder's lock.</summary>
public sealed class FolderLockedException(string message) : InvalidOperationException(message);

using System.Text;

namespace AdamFamily.Lab.Execution;

/// <summary>
/// Arm labels become file names. The mapping is one-to-one: letters, digits, '-', '_' and '.' stay, every other
/// character (and '%') becomes %XX of its UTF-8 bytes, so 'a b', 'a_b' and 'a/b' get three different files.
/// Labels that differ only in case are refused (they would share a file on a case-insensitive filesystem).
/// </summary>
public static class ResultFileNames
{
    public static string RunFile(string arm, int seed) => $"runs/{Escape(arm)}-seed{seed}.jsonl";

    public static string Escape(string label)
    {
        var sb = new StringBuilder();
        Span<byte> b = stackalloc byte[4];
        foreach (var r in label.EnumerateRunes())
        {
            if (r.IsAscii && (char.IsAsciiLetterOrDigit((char)r.Value) || r.Value is '-' or '_' or '.')) sb.Append((char)r.Value);
            else
            {
                int n = r.EncodeToUtf8(b);
                for (int i = 0; i < n; i++) sb.Append('%').Append(b[i].ToString("X2"));
            }
        }
        var s = sb.ToString();
        return s is "" or "." or ".." ? s.Replace(".", "%2E") : s;
    }

    /// <summary>Throws <see cref="ArgumentException"/> when two labels would share files (same name up to case) or a label is empty.</summary>
    public static void CheckDistinct(IEnumerable<string> labels)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var l in labels)
        {
            if (string.IsNullOrWhiteSpace(l)) throw new ArgumentException("an arm has an empty label; name arms as label=preset:options.", "arms");
            var f = Escape(l);
            if (seen.TryGetValue(f, out var other) && other != l)
                throw new ArgumentException($"arm labels '{other}' and '{l}' differ only in case, so their result files would collide on some filesystems; rename one.", "arms");
            seen[f] = l;
        }
    }
}

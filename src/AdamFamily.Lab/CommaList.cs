namespace AdamFamily.Lab;

/// <summary>
/// The one reading of a comma-separated option value (--optimizers, --problems, --estimators, --factors, --presets,
/// --sizes, --baselines): items are trimmed; an empty item (<c>adam,,adamd</c>), an item given twice (compared without
/// case) or an empty list is an error naming the option and the value, never silently dropped or run twice.
/// </summary>
public static class CommaList
{
    /// <summary>The trimmed items of <paramref name="text"/>; <see cref="ArgumentException"/> naming <paramref name="option"/> for an empty list, an empty item or a repeat.</summary>
    public static string[] Parse(string? text, string option)
    {
        var items = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (items.All(i => i.Length == 0)) throw new ArgumentException($"{option}: no items given ('{text}').");
        if (items.Any(i => i.Length == 0)) throw new ArgumentException($"{option}: '{text}' has an empty item (two commas, or a comma at an end).");
        var twice = items.GroupBy(i => i, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new ArgumentException($"{option}: '{twice.Key}' is given twice in '{text}'.");
        return items;
    }
}

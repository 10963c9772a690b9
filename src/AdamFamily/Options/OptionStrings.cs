namespace AdamFamily;

/// <summary>
/// The grammar of option strings, "key=value, key=value": items separated by commas outside brackets; each
/// item one key (letters, digits, '_'), '=', and a non-empty value whose round and square brackets balance
/// ("betas=(0.9,0.999)", "theta_schedule=diminishing T=5 p=0.7"). Anything else — a stray or unclosed
/// bracket, an empty item, an empty value, a key given twice — is an <see cref="ArgumentException"/> that
/// names the key and the value. Whether a key exists and its value is valid is the schema's business.
/// </summary>
public static class OptionStrings
{
    /// <summary>Splits an option string into key/value pairs (keys lower-cased, both trimmed).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Parse(string spec)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrWhiteSpace(spec)) return result;
        var open = new Stack<char>();
        string? bracketError = null;
        int start = 0;
        for (int i = 0; i <= spec.Length; i++)
        {
            char ch = i < spec.Length ? spec[i] : '\0';
            if (ch is '(' or '[') open.Push(ch);
            else if (ch is ')' or ']')
            {
                char expected = ch == ')' ? '(' : '[';
                if (open.Count == 0 || open.Peek() != expected) bracketError ??= $"a '{ch}' without its opening bracket";
                else open.Pop();
            }
            else if ((ch == ',' && open.Count == 0) || i == spec.Length)
            {
                if (i == spec.Length && open.Count > 0) bracketError ??= $"an unclosed '{open.Peek()}'";
                result.Add(Item(spec, spec[start..i], bracketError));
                start = i + 1;
                bracketError = null;
            }
        }
        var seen = new Dictionary<string, string>();
        foreach (var (key, value) in result)
        {
            if (seen.TryGetValue(key, out var first))
                throw new ArgumentException($"option {key} is given twice ('{first}' and '{value}') in '{spec}'.", key);
            seen[key] = value;
        }
        return result;
    }

    private static KeyValuePair<string, string> Item(string spec, string raw, string? bracketError)
    {
        var item = raw.Trim();
        if (item.Length == 0)
            throw new ArgumentException($"option string '{spec}' has an empty item (two commas in a row, or a comma at an end).", "options");
        int eq = item.IndexOf('=');
        if (eq <= 0)
            throw new ArgumentException($"cannot read option '{item}' in '{spec}': expected key=value.", "options");
        var key = item[..eq].Trim();
        var value = item[(eq + 1)..].Trim();
        if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"cannot read option '{item}' in '{spec}': '{key}' is not an option key.", key);
        key = key.ToLowerInvariant();
        if (value.Length == 0)
            throw new ArgumentException($"option {key} has an empty value ('') in '{spec}'.", key);
        if (bracketError is not null)
            throw new ArgumentException($"option {key} = '{value}' has {bracketError}.", key);
        return new(key, value);
    }
}

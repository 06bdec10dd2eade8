using System.Text.Encodings.Web;
using System.Text.Json;

namespace Varpulis.Vpl.Json;

/// <summary>
/// The one JSON configuration of the project (System.Text.Json): compact output, UTF-8 text left unescaped
/// (the output is never embedded in HTML), input nesting bounded.
/// </summary>
public static class VplJson
{
    /// <summary>The deepest nesting a value may have (arrays and objects inside each other).</summary>
    public const int MaxValueDepth = 64;

    /// <summary>Options for every <see cref="Utf8JsonWriter"/>.</summary>
    public static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Options for parsing documents that carry values: a value may nest <see cref="MaxValueDepth"/> levels inside an
    /// envelope of a few more (an event's <c>fields</c>, a batch's <c>events</c> array).
    /// </summary>
    public static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = MaxValueDepth + 8,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    /// <summary>Reader options matching <see cref="DocumentOptions"/>.</summary>
    public static readonly JsonReaderOptions ReaderOptions = new()
    {
        MaxDepth = MaxValueDepth + 8,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    /// <summary>The serializer options for the project's DTOs (snake_case names, same encoder and depth).</summary>
    public static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = MaxValueDepth + 8,
        WriteIndented = false,
    };
}

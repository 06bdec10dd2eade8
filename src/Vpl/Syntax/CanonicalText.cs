using System.Text;

namespace Varpulis.Vpl.Syntax;

/// <summary>
/// A statement's text reduced to its tokens joined by single spaces (comments and layout dropped).
/// Two versions of a program whose stream statements have the same canonical text have the same
/// stream "shape", so a checkpoint's state for that stream can be restored into the new version.
/// </summary>
public static class CanonicalText
{
    public static string Of(StatementSyntax statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        var file = statement.File ?? throw new ArgumentException("the statement has no source file", nameof(statement));
        var tokens = Lexer.Lex(file, statement.Span.Start, statement.Span.End, new SyntaxDiagnostics());
        var sb = new StringBuilder(statement.Span.Length);
        foreach (var token in tokens)
        {
            if (token.Kind == SyntaxKind.EndOfFile) break;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(file.Text, token.Span.Start, token.Span.Length);
        }
        return sb.ToString();
    }
}

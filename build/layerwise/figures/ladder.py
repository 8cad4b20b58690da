"""The ladder of models in one table: accuracy, parameters, training time."""

import html

from . import figure


@figure("ladder-table")
def ladder_table(data: dict) -> str:
    rows = "".join(
        f"<tr><th scope=\"row\">{html.escape(m['title'])}</th><td>{m['test_accuracy']:.1%}</td>"
        f"<td>{m['parameters']:,}</td><td>{m['train_seconds']:.1f} s</td></tr>"
        for m in data["metrics"].values())
    return ("<div class=\"table-scroll\"><table class=\"ladder\"><thead><tr><th scope=\"col\">model</th>"
            "<th scope=\"col\">held-out accuracy</th><th scope=\"col\">parameters</th>"
            f"<th scope=\"col\">training time</th></tr></thead><tbody>{rows}</tbody></table></div>")

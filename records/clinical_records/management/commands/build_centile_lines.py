"""Write (or check) the growth references' centile lines the summary's charts draw."""

from django.core.management.base import BaseCommand, CommandError

from records.clinical_records import centile_data


class Command(BaseCommand):
    help = (
        "Ask rcpchgrowth for every growth reference's centile lines and write them to "
        f"{centile_data.DATA_FILE.name}, which the chart summary reads (run after "
        "upgrading rcpchgrowth; --check only compares)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail if the file differs from rcpchgrowth's output; write nothing.",
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        text = centile_data.dumps(centile_data.build_all())
        path = centile_data.DATA_FILE
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if check:
            if current != text:
                raise CommandError(
                    f"{path.name} differs from rcpchgrowth's centile lines: run "
                    "manage.py build_centile_lines and commit the file."
                )
            self.stdout.write(f"{path.name} matches rcpchgrowth.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path} ({len(text):,} bytes).")

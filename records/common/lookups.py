"""Lookups PostgreSQL answers from its trigram indexes."""

from django.db.models import CharField, Lookup


@CharField.register_lookup
class IPrefix(Lookup):
    """`name__iprefix="smi"`: starts with, in any case, as `ILIKE 'smi%'`, which a
    gin_trgm_ops index answers; Django's istartswith is `UPPER(name) LIKE ...`,
    which no index on the column serves."""

    lookup_name = "iprefix"

    def get_db_prep_lookup(self, value, connection):
        return "%s", [connection.ops.prep_for_like_query(value) + "%"]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.io.fetch import fetch_all, resolve_mirror


@task(cache_policy=NO_CACHE)
def fetch_files(manifest, files, dest, mirror):
    return fetch_all(manifest, files, dest, mirror)


@flow(name="fetch")
def fetch_flow() -> None:
    p = params()
    mirror = resolve_mirror(p.fetch.mirror)
    source = f"from the mirror {mirror}" if mirror else "from their public URLs"
    with recorded("fetch", p, f"copy {len(p.fetch.files)} files {source}, verifying sha256",
                  mirror=str(mirror)) as run:  # fmt: skip
        paths = fetch_files(p.paths.manifest, p.fetch.files, p.paths.raw, mirror)
        run["result"] = f"{len(paths)} verified files in {p.paths.raw}"


if __name__ == "__main__":
    fetch_flow()

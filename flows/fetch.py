from prefect import flow, get_run_logger, task
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
    with recorded("fetch", p, mirror=str(mirror)):
        paths = fetch_files(p.paths.manifest, p.fetch.files, p.paths.raw, mirror)
    get_run_logger().info("fetched %d verified files into %s", len(paths), p.paths.raw)


if __name__ == "__main__":
    fetch_flow()

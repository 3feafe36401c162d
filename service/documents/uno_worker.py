"""One warm LibreOffice converter, driven over stdin/stdout by ``service.documents.pdf.ConversionPool``.

Run with the interpreter that has LibreOffice's ``uno`` module (Debian: ``/usr/bin/python3`` with
``python3-uno``); standard library and ``uno`` only — it never imports the project, so the service's own
virtual environment needs no UNO bridge::

    /usr/bin/python3 -I uno_worker.py --soffice /usr/bin/soffice --profile /tmp/x/profile

It writes a hardened profile (see ``HARDENED_PROFILE``), starts one headless ``soffice`` listening on a
private pipe, connects to it (retrying until a deadline) and announces itself with one line::

    {"ready": true, "soffice_pid": 1234, "version": "7.4.7.2"}

or ``{"ready": false, "kind": "unavailable", "error": "..."}`` and exits. Then, one request per line::

    {"input": "/tmp/job/in.docx", "output": "/tmp/job/out.pdf", "pdfa": false}

answered by ``{"ok": true, "load_ms": 80.1, "export_ms": 30.2, "pages": 3, "rss_kib": 180000,
"peak_kib": 190000}`` (the time spent loading, laid out included, and exporting; the pages laid out;
soffice's resident memory after closing the document, and its peak so far), or, for
``{"input": "/tmp/job/in.docx", "count": true}`` (load, count the pages, close: no export), by the same
without ``export_ms``; or
``{"ok": false, "kind": "load" | "export" | "office" | "request", "error": "...", "fatal": bool}``.
``fatal`` means the office is gone; the worker exits right after answering. When stdin closes (or the
parent process disappears) it terminates soffice and exits.

Protocol lines go to the original stdout only; anything else that writes to fd 1 (the UNO bridge, soffice
inherited handles) is redirected to stderr so that it cannot corrupt the protocol.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

# A dead proxy: every HTTP/HTTPS/FTP request LibreOffice itself makes goes to a closed local port.
DEAD_PROXY_HOST = "127.0.0.1"
DEAD_PROXY_PORT = "9"  # "discard": nothing listens there on a normal host; the connection is refused

# The profile every converter starts with (written before soffice first starts, merged into its
# registry). Each setting closes one way a document could reach outside itself:
# - Security/Scripting/BlockUntrustedRefererLinks: content linked from a document in an untrusted
#   location (all of them: no trusted locations are configured) is not loaded — external images over
#   http(s) and file:// links alike (Gotenberg sets this since GHSA-rm4c-xj6x-49mw).
# - Inet/Settings proxy: LibreOffice's own fetches go to a dead proxy, so even a path the setting above
#   misses cannot reach the network (Gotenberg routes them through a filtering proxy instead).
# - DisableMacrosExecution, MacroSecurityLevel 3 (very high), no trusted locations: no macro runs.
# - Writer/Filter/Import/VBA Load/Executable false: VBA projects in a document are not even imported.
# - Writer/Content/Update/Link 0 (never) and Field false: links and fields are not refreshed on load.
HARDENED_PROFILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks"
 oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution"
 oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel"
 oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="SecureURL"
 oor:op="fuse"><value/></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Filter/Import/VBA"><prop oor:name="Load"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Filter/Import/VBA"><prop oor:name="Executable"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link"
 oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Field"
 oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetProxyType"
 oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyName"
 oor:op="fuse"><value>{DEAD_PROXY_HOST}</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyPort"
 oor:op="fuse"><value>{DEAD_PROXY_PORT}</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyName"
 oor:op="fuse"><value>{DEAD_PROXY_HOST}</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyPort"
 oor:op="fuse"><value>{DEAD_PROXY_PORT}</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyName"
 oor:op="fuse"><value>{DEAD_PROXY_HOST}</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetFTPProxyPort"
 oor:op="fuse"><value>{DEAD_PROXY_PORT}</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetNoProxy"
 oor:op="fuse"><value></value></prop></item>
</oor:items>
"""

SOFFICE_FLAGS = ("--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck")

# com.sun.star.document.MacroExecMode.NEVER_EXECUTE and UpdateDocMode.NO_UPDATE
NEVER_EXECUTE = 0
NO_UPDATE = 0
DOCX_FILTER = "MS Word 2007 XML"
PDF_FILTER = "writer_pdf_Export"
PDFA_2B = 2  # writer_pdf_Export FilterData SelectPdfVersion: 0 = PDF 1.x, 1 = PDF/A-1b, 2 = PDF/A-2b


def write_profile(profile: str) -> None:
    """Create the profile folder with the hardened settings, before soffice first starts in it."""
    user = os.path.join(profile, "user")
    os.makedirs(user, mode=0o700, exist_ok=True)
    with open(os.path.join(user, "registrymodifications.xcu"), "w", encoding="utf-8") as out:
        out.write(HARDENED_PROFILE)


def office_environment(preload: str | None = None) -> dict[str, str]:
    """soffice's environment: the dead proxy for curl too, never a proxy exemption; with ``preload``, those
    libraries (``:`` between them: a memory allocator, the fsync no-op) loaded into it first."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in {"http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy"}
    }
    dead = f"http://{DEAD_PROXY_HOST}:{DEAD_PROXY_PORT}"
    env.update(http_proxy=dead, https_proxy=dead, ftp_proxy=dead, all_proxy=dead, no_proxy="")
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, FTP_PROXY=dead, ALL_PROXY=dead, NO_PROXY="")
    env["SAL_USE_VCLPLUGIN"] = "svp"
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    return env


def profile_url(profile: str) -> str:
    """The ``UserInstallation`` URL of the profile folder ``profile``."""
    return "file://" + urllib.parse.quote(os.path.abspath(profile))


def soffice_command(soffice: str, profile: str, *extra: str) -> list[str]:
    """The soffice command line for the profile folder ``profile`` plus ``extra`` arguments."""
    return [soffice, *SOFFICE_FLAGS, f"-env:UserInstallation={profile_url(profile)}", *extra]


class Protocol:
    """The framed channel to the pool: one JSON object per line on the original stdout."""

    def __init__(self) -> None:
        self.out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)  # stray writes to stdout (native code included) land in stderr
        sys.stdout = sys.stderr

    def send(self, message: dict) -> None:
        self.out.write(json.dumps(message, ensure_ascii=True) + "\n")
        self.out.flush()


class Office:
    """One soffice process and the UNO desktop connected to it."""

    def __init__(
        self, soffice: str, profile: str, pipe: str | None = None, preload: str | None = None
    ) -> None:
        import uno  # noqa: F401  (fails early and clearly when this interpreter has no UNO bridge)

        self.pipe = pipe or f"veidlapas-{os.getpid()}-{uuid.uuid4().hex}"
        self.profile = profile
        self.stopping = False
        write_profile(profile)
        accept = f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        self.process = subprocess.Popen(
            soffice_command(soffice, profile, accept),
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno(),
            stderr=sys.stderr.fileno(),
            env=office_environment(preload),
        )
        self.desktop = None
        self._office_pids: list[int] = []

    def connect(self, start_timeout: float) -> None:
        """Connect to soffice once it listens (it may restart itself once to set up the profile)."""
        self.desktop = self._connect(time.monotonic() + start_timeout)

    def _connect(self, deadline: float):
        import uno
        from com.sun.star.connection import NoConnectException

        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        while True:
            try:
                context = resolver.resolve(url)
                break
            except NoConnectException:
                # soffice exits with 81 after creating a fresh profile; oosplash restarts it itself.
                if self.process.poll() not in (None, 81):
                    raise RuntimeError(f"soffice exited with status {self.process.returncode}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError("soffice did not accept a connection in time") from None
                time.sleep(0.05)
        self.context = context
        return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)

    def version(self) -> str:
        from com.sun.star.beans import PropertyValue

        provider = self.context.ServiceManager.createInstanceWithContext(
            "com.sun.star.configuration.ConfigurationProvider", self.context
        )
        path = PropertyValue(Name="nodepath", Value="/org.openoffice.Setup/Product")
        service = "com.sun.star.configuration.ConfigurationAccess"
        access = provider.createInstanceWithArguments(service, (path,))
        return str(access.getByName("ooSetupVersionAboutBox"))

    def convert(self, source: str, target: str | None, pdfa: bool) -> dict[str, float]:
        """Convert ``source`` into ``target``; the milliseconds spent loading (import and layout) and
        exporting, the pages laid out, and soffice's resident memory afterwards and at its peak (KiB).
        Without ``target`` the document is only loaded, its pages counted and closed."""
        import uno
        from com.sun.star.beans import PropertyValue

        def props(**values) -> tuple:
            return tuple(PropertyValue(Name=name, Value=value) for name, value in values.items())

        started = time.monotonic()
        document = self.desktop.loadComponentFromURL(
            uno.systemPathToFileUrl(source),
            "_blank",
            0,
            props(
                Hidden=True,
                ReadOnly=True,
                MacroExecutionMode=NEVER_EXECUTE,
                UpdateDocMode=NO_UPDATE,
                FilterName=DOCX_FILTER,
                Silent=True,
            ),
        )
        if document is None:
            raise LoadError("LibreOffice could not open the document as DOCX")
        loaded = time.monotonic()
        try:
            pages = _page_count(document)
            if target is None:
                return {"load_ms": round((loaded - started) * 1000, 1), "pages": pages, **self.memory()}
            filter_data = {"UseTaggedPDF": True, "ExportFormFields": False}
            if pdfa:
                filter_data["SelectPdfVersion"] = PDFA_2B
            data = uno.Any("[]com.sun.star.beans.PropertyValue", props(**filter_data))
            try:
                uno.invoke(
                    document,
                    "storeToURL",
                    (
                        uno.systemPathToFileUrl(target),
                        (
                            PropertyValue(Name="FilterName", Value=PDF_FILTER),
                            PropertyValue(Name="FilterData", Value=data),
                        ),
                    ),
                )
            except Exception as error:
                if _is_office_gone(error):
                    raise
                raise ExportError(f"PDF export failed: {_describe(error)}") from None
            exported = time.monotonic()
        finally:
            with contextlib.suppress(Exception):
                document.close(True)
        return {
            "load_ms": round((loaded - started) * 1000, 1),
            "export_ms": round((exported - loaded) * 1000, 1),
            "pages": pages,
            **self.memory(),
        }

    def memory(self) -> dict[str, int]:
        """soffice's resident memory now (``rss_kib``) and at its peak so far (``peak_kib``, VmHWM), both
        ``soffice.bin`` and its ``oosplash`` wrapper, from /proc."""
        if not self._office_pids:  # found once: soffice has restarted itself (status 81) by the first use
            self._office_pids = [self.process.pid, *descendants(self.process.pid)]
        totals = {"VmRSS:": 0, "VmHWM:": 0}
        for pid in self._office_pids:
            with (
                contextlib.suppress(OSError, ValueError, IndexError),
                open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status,
            ):
                for line in status:
                    if line.split(maxsplit=1)[0] in totals:
                        totals[line.split()[0]] += int(line.split()[1])
        return {"rss_kib": totals["VmRSS:"], "peak_kib": totals["VmHWM:"]}

    def stop(self, grace: float = 5.0) -> None:
        """Ask soffice to quit, then make sure it (oosplash and soffice.bin) did."""
        self.stopping = True
        if self.desktop is not None:
            with contextlib.suppress(Exception):
                self.desktop.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        self.kill()

    def kill(self) -> None:
        """Kill soffice at once: the oosplash wrapper we started and every process under it."""
        for pid in [*descendants(self.process.pid), self.process.pid]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        for path in office_sockets(self.pipe, self.profile):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _page_count(document) -> int:
    """The pages of a loaded Writer document (its layout is done while loading); 0 when unknown."""
    with contextlib.suppress(Exception):
        return int(document.getCurrentController().getPropertyValue("PageCount"))
    return 0


def office_sockets(pipe: str, profile: str) -> list[str]:
    """The sockets soffice makes for pipe ``pipe`` and profile ``profile``; a killed soffice leaves them.

    The second is its single-instance pipe, named after the MD5 of the profile URL in UTF-16, each byte
    in hexadecimal without leading zeros (desktop/source/app/officeipcthread.cxx, CreateMD5FromString).
    """
    digest = hashlib.md5(profile_url(profile).encode("utf-16-le")).digest()
    single = "SingleOfficeIPC_" + "".join(f"{byte:x}" for byte in digest)
    return [
        f"{folder}/OSL_PIPE_{os.getuid()}_{name}"
        for folder in ("/tmp", "/var/tmp")
        for name in (pipe, single)
    ]


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class LoadError(Exception):
    pass


class ExportError(Exception):
    pass


def _describe(error: BaseException) -> str:
    message = getattr(error, "Message", None) or str(error)
    return f"{type(error).__name__}: {message}".strip()[:500]


def _is_office_gone(error: BaseException) -> bool:
    """Whether the bridge to soffice is broken (soffice crashed or was killed)."""
    text = str(error).lower()
    return type(error).__name__ == "DisposedException" or "disposed" in text or "urp bridge" in text


def watch_office(office: Office) -> None:
    """Exit as soon as soffice dies unasked, so that the pool sees this worker gone and replaces it."""

    def watch() -> None:
        office.process.wait()
        if not office.stopping:
            office.kill()
            shutil.rmtree(office.profile, ignore_errors=True)
            os._exit(4)

    threading.Thread(target=watch, name="office-watch", daemon=True).start()


def watch_parent(on_orphaned) -> None:
    """Call ``on_orphaned`` when the process that started this worker is gone (re-parented)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        on_orphaned()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve(office: Office, protocol: Protocol) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            source, pdfa = request["input"], bool(request.get("pdfa", False))
            target = None if request.get("count") else request["output"]
        except (ValueError, KeyError, TypeError) as error:
            protocol.send({"ok": False, "kind": "request", "error": f"bad request: {error}", "fatal": False})
            continue
        try:
            figures = office.convert(source, target, pdfa)
        except LoadError as error:
            protocol.send({"ok": False, "kind": "load", "error": str(error), "fatal": False})
        except ExportError as error:
            protocol.send({"ok": False, "kind": "export", "error": str(error), "fatal": False})
        except Exception as error:
            gone = _is_office_gone(error) or office.process.poll() is not None
            kind = "office" if gone else "load"
            protocol.send({"ok": False, "kind": kind, "error": _describe(error), "fatal": gone})
            if gone:
                return
        else:
            protocol.send({"ok": True, **figures})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soffice", required=True)
    parser.add_argument("--profile", required=True, help="a folder for this worker's own LibreOffice profile")
    parser.add_argument("--pipe", help="the name of the pipe soffice listens on (default: a new unique one)")
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument(
        "--preload", help="libraries soffice loads first (LD_PRELOAD, ':' between): an allocator, no fsync"
    )
    args = parser.parse_args(argv)
    protocol = Protocol()
    office: Office | None = None

    def orphaned() -> None:
        # The pool's process died without closing our stdin (it was killed): take soffice down too.
        if office is not None:
            office.kill()
        shutil.rmtree(args.profile, ignore_errors=True)
        os._exit(3)

    watch_parent(orphaned)
    try:
        office = Office(args.soffice, args.profile, args.pipe, args.preload)
    except ImportError as error:
        message = f"no UNO bridge in {sys.executable}: {error}"
        protocol.send({"ready": False, "kind": "unavailable", "error": message})
        return 2
    except OSError as error:
        protocol.send({"ready": False, "kind": "unavailable", "error": f"cannot run {args.soffice}: {error}"})
        return 2
    try:
        try:
            office.connect(args.start_timeout)
            version = office.version()
        except Exception as error:
            protocol.send({"ready": False, "kind": "start", "error": _describe(error)})
            return 2
        watch_office(office)
        protocol.send({"ready": True, "soffice_pid": office.process.pid, "version": version})
        serve(office, protocol)
    finally:
        office.stop()
        shutil.rmtree(args.profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

// Shenbao's console: sign-in, the applicant's projects and forms, the reviewers'
// queues and decisions — a thin client over the public HTTP API (no private
// endpoint), in Chinese. Hash routes: #/, #/apply/ROUND, #/app/ID, #/queue/ROUND,
// #/preview/ROUND/FORM, #/admin/SECTION.
import { StrictMode, useCallback, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { ApiError, currentSession, signOut } from "./api.js";
import { roleNames } from "./common.jsx";
import { SignIn } from "./pages/SignIn.jsx";
import { Home } from "./pages/Home.jsx";
import { Apply } from "./pages/Apply.jsx";
import { AppView } from "./pages/AppView.jsx";
import { Queue } from "./pages/Queue.jsx";
import { Preview } from "./pages/Preview.jsx";
import { Admin } from "./pages/Admin.jsx";
import "./styles.css";

function useHash() {
  const [hash, setHash] = useState(window.location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(window.location.hash || "#/");
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

const isAdmin = (u) => u.grants.some((g) => g.role === "admin" && g.scope?.level === "province");

function App() {
  const hash = useHash();
  const [user, setUser] = useState(undefined);
  const [error, setError] = useState(null);
  const [expired, setExpired] = useState(false);
  useEffect(() => {
    currentSession().then(setUser, (e) => setError(e));
    const out = () => {
      setExpired(true);
      setUser(null);
    };
    window.addEventListener("shenbao:signed-out", out);
    return () => window.removeEventListener("shenbao:signed-out", out);
  }, []);
  const out = useCallback(async () => {
    await signOut().catch(() => {});
    setUser(null);
    window.location.hash = "#/";
  }, []);
  if (error) return <p role="alert">{error instanceof ApiError ? error.zh : String(error)}</p>;
  if (user === undefined) return <p>正在加载…</p>;
  if (!user)
    return (
      <>
        {expired && (
          <p role="alert" className="problem">
            登录已失效，请重新登录
          </p>
        )}
        <SignIn
          onSignedIn={(u) => {
            setExpired(false);
            setUser(u);
          }}
        />
      </>
    );
  const [, page, arg, arg2] = hash.split("/");
  let body;
  // Keyed by what they show: another round or application starts afresh.
  if (page === "apply" && arg) body = <Apply key={hash} user={user} round={decodeURIComponent(arg)} />;
  else if (page === "app" && arg) body = <AppView key={hash} user={user} id={decodeURIComponent(arg)} />;
  else if (page === "queue" && arg) body = <Queue key={hash} user={user} round={decodeURIComponent(arg)} />;
  else if (page === "admin" && isAdmin(user)) body = <Admin key={hash} section={arg} />;
  else if (page === "preview" && arg && arg2)
    body = <Preview round={decodeURIComponent(arg)} form={decodeURIComponent(arg2)} />;
  else body = <Home user={user} />;
  return (
    <>
      <header>
        <a href="#/" className="brand">
          申报系统
        </a>
        {isAdmin(user) && (
          <a href="#/admin/plugins" className="nav">
            系统管理
          </a>
        )}
        <span className="who">
          {user.name || user.id}（{roleNames(user)}）
        </span>
        <button type="button" onClick={out}>
          退出登录
        </button>
      </header>
      <main>{body}</main>
    </>
  );
}

createRoot(document.getElementById("root")).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

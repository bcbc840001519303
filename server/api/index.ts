import type { Router } from '@koa/router';
import type { AppState } from '../http/state.ts';
import type { Services } from '../services.ts';
import { channelRoutes } from './channels/routes.ts';
import { fileRoutes } from './files/routes.ts';
import { postFileHooks } from '../files/service.ts';
import { postRoutes } from './posts/routes.ts';
import { systemRoutes } from './system/routes.ts';
import { teamRoutes } from './teams/routes.ts';
import { userRoutes } from './users/routes.ts';

/** Every router mounted under /api/v4, in one readable list. */
export function apiRouters(services: Services): Router<AppState>[] {
  return [
    systemRoutes({ db: services.db, nodeId: services.config.nodeId }),
    userRoutes(services),
    teamRoutes(services),
    channelRoutes(services),
    postRoutes(services, postFileHooks),
    fileRoutes(services),
  ];
}

/** Routers mounted at the site root. */
export function rootRouters(_services: Services): Router<AppState>[] {
  return [];
}
